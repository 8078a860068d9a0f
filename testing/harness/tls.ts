import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1, made with the openssl
 * CLI (Node cannot issue certificates). The kit's HTTPS servers use the certificate; the handler
 * processes trust the CA through Node's standard NODE_EXTRA_CA_CERTS variable, so production code
 * needs no test-only switch to accept them.
 */
export interface LocalTls {
  /** The CA certificate (PEM file) to hand to NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Removes the files. */
  dispose(): void;
}

export function makeLocalTls(): LocalTls {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-tls-'));
  try {
    const file = (name: string) => path.join(dir, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=cdk-kms-byok local test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
    const tls = { caFile: file('ca.pem'), cert: fs.readFileSync(file('server.pem')), key: fs.readFileSync(file('server.key')) };
    // Only the CA certificate must stay on disk, for the handler processes to read.
    for (const name of ['ca.key', 'server.key', 'server.csr', 'server.ext', 'server.pem']) fs.rmSync(file(name), { force: true });
    return { ...tls, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the kit's HTTPS ResponseURL needs the openssl CLI to make a local certificate: ${(e as Error).message}`, { cause: e });
  }
}
