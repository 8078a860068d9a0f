/** What the kit's local AWS services (the KMS emulator, the Secrets Manager) share of the AWS JSON 1.1 protocol over HTTP. */
import type * as http from 'http';
import type { AddressInfo } from 'net';

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request's JSON object, or the SerializationException message saying why there is none. */
export function parseJsonObject(body: string): { input: Record<string, unknown> } | { error: string } {
  let parsed: unknown;
  try {
    parsed = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    return { error: 'Malformed JSON in the request body.' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: 'The request body must be a JSON object.' };
  return { input: parsed as Record<string, unknown> };
}

/** Listens on `host:port` (0: a free port); returns the port and the endpoint URL. */
export async function listen(server: http.Server, port: number, host: string): Promise<{ port: number; endpoint: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { port: address.port, endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` };
}
