import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt, randomBytes } from 'crypto';
import { wrapKeyMaterial } from '../../lambda/wrap';

function unwrap(wrapped: Buffer, privateKey: any, algorithm: string, modulusBytes: number): Buffer {
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const oaep = (c: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, c);
  if (algorithm.startsWith('RSAES')) return oaep(wrapped);
  const aesKey = oaep(wrapped.subarray(0, modulusBytes));
  const d = createDecipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([d.update(wrapped.subarray(modulusBytes)), d.final()]);
}

describe('wrapKeyMaterial', () => {
  const pairs = Object.fromEntries([2048, 3072].map((bits) => [bits, generateKeyPairSync('rsa', { modulusLength: bits })]));
  const cells = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256']
    .flatMap((alg) => [2048, 3072].map((bits) => [alg, bits] as [string, number]));
  test.each(cells)('%s under RSA-%p unwraps to the material with the matching hash', (alg, bits) => {
    const material = randomBytes(alg.startsWith('RSA_AES') ? 67 : 32);
    const { publicKey, privateKey } = pairs[bits];
    const wrapped = wrapKeyMaterial(material, publicKey.export({ type: 'spki', format: 'der' }), alg);
    expect(unwrap(wrapped, privateKey, alg, bits / 8)).toEqual(material);
    // The other hash must not unwrap it: the hash really is the one asked for.
    const other = alg.endsWith('SHA_256') ? alg.replace('SHA_256', 'SHA_1') : alg.replace('SHA_1', 'SHA_256');
    expect(() => unwrap(wrapped, privateKey, other, bits / 8)).toThrow(/oaep decoding error/);
  });
  test('RSA_AES output is the modulus-length RSA block followed by an RFC 5649 block of 8*ceil(n/8)+8 bytes', () => {
    const wrapped = wrapKeyMaterial(randomBytes(67), pairs[2048].publicKey.export({ type: 'spki', format: 'der' }), 'RSA_AES_KEY_WRAP_SHA_256');
    expect(wrapped.length).toBe(256 + 8 * Math.ceil(67 / 8) + 8);
  });
  test('material too large for RSAES_OAEP is refused with the capacity', () => {
    expect(() => wrapKeyMaterial(randomBytes(191), pairs[2048].publicKey.export({ type: 'spki', format: 'der' }), 'RSAES_OAEP_SHA_256'))
      .toThrow('the 191-byte material does not fit RSAES_OAEP_SHA_256 under a 2048-bit wrapping key (at most 190 bytes)');
  });
});
