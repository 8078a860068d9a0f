import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as selfsigned from 'selfsigned';

/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1, made in Node with
 * `selfsigned` (Node's crypto cannot issue certificates; no openssl CLI needed, so the kit runs
 * on a machine with Node only). The kit's HTTPS servers use the certificate; the handler
 * processes trust the CA through Node's standard NODE_EXTRA_CA_CERTS variable, so production code
 * needs no test-only switch to accept them.
 */
export interface LocalTls {
  /** The CA certificate (PEM file) to hand to NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly cert: string;
  readonly key: string;
  /** Removes the files. */
  dispose(): void;
}

export async function makeLocalTls(): Promise<LocalTls> {
  // Valid from a minute ago (clock skew) for two days: long enough for any test run.
  const validity = { notBeforeDate: new Date(Date.now() - 60_000), notAfterDate: new Date(Date.now() + 2 * 86400_000) };
  const ec = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256', ...validity };
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'cdk-kms-byok local test CA' }], {
    ...ec, extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }],
  });
  const server = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    ...ec, ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  // Only the CA certificate goes to disk, for the handler processes to read; the CA's key is dropped.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-tls-'));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, ca.cert);
  return { caFile, cert: server.cert, key: server.private, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
