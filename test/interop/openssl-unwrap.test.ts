import { execFileSync } from 'child_process';
import { generateKeyPairSync, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { wrapKeyMaterial } from '../../lambda/wrap';
import { describeWithTools } from '../tools';

/**
 * The handler's wraps, unwrapped by an independent implementation: the openssl CLI, with the
 * options of AWS's own guide (importing-keys-encrypt-key-material.html). If the handler and the
 * emulator shared a mistake, this would catch it.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-'));
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const sizes = [2048, 3072, 4096];
const keys = Object.fromEntries(sizes.map((bits) => {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  const pem = path.join(dir, `wrap-${bits}.pem`);
  fs.writeFileSync(pem, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return [bits, { spki: pair.publicKey.export({ type: 'spki', format: 'der' }), pem }];
}));

function opensslUnwrap(wrapped: Buffer, algorithm: string, bits: number): Buffer {
  const md = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const oaep = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`];
  const { pem } = keys[bits];
  const tag = `${algorithm}-${bits}`;
  if (algorithm.startsWith('RSAES')) {
    fs.writeFileSync(path.join(dir, `${tag}.bin`), wrapped);
    openssl('pkeyutl', '-decrypt', '-inkey', pem, ...oaep, '-in', path.join(dir, `${tag}.bin`), '-out', path.join(dir, `${tag}.out`));
    return fs.readFileSync(path.join(dir, `${tag}.out`));
  }
  const k = bits / 8;
  fs.writeFileSync(path.join(dir, `${tag}.aes.bin`), wrapped.subarray(0, k));
  fs.writeFileSync(path.join(dir, `${tag}.kwp.bin`), wrapped.subarray(k));
  openssl('pkeyutl', '-decrypt', '-inkey', pem, ...oaep, '-in', path.join(dir, `${tag}.aes.bin`), '-out', path.join(dir, `${tag}.aes`));
  const aesHex = fs.readFileSync(path.join(dir, `${tag}.aes`)).toString('hex');
  openssl('enc', '-d', '-id-aes256-wrap-pad', '-K', aesHex, '-iv', 'A65959A6', '-in', path.join(dir, `${tag}.kwp.bin`), '-out', path.join(dir, `${tag}.out`));
  return fs.readFileSync(path.join(dir, `${tag}.out`));
}

describeWithTools(['openssl'], 'the handler\'s wraps unwrap with the openssl CLI', () => {
  const cells = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'].flatMap((a) => sizes.map((b) => [a, b] as [string, number]));
  test.each(cells)('%s under RSA-%p', (algorithm, bits) => {
    // An EC P-384 PKCS#8 key for RSA_AES (odd length, exercises KWP padding); 32 bytes for RSAES.
    const material = algorithm.startsWith('RSA_AES')
      ? generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'der' })
      : randomBytes(32);
    const wrapped = wrapKeyMaterial(material, keys[bits].spki, algorithm);
    expect(opensslUnwrap(wrapped, algorithm, bits).equals(material)).toBe(true);
  });
});
