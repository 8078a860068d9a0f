import { constants, createDecipheriv, generateKeyPairSync, KeyObject, privateDecrypt } from 'crypto';

/**
 * The KMS side of an import, with node's crypto: a wrapping key pair like GetParametersForImport
 * makes, and the unwrap KMS does in ImportKeyMaterial
 * (docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html).
 * Independent of the handler's code: nothing here comes from lambda/.
 */

const pairs = new Map<number, { publicKeyDer: Buffer; privateKey: KeyObject }>();

/** An RSA wrapping key pair of `bits` (one per size per test process: RSA-4096 takes a while). */
export function wrappingKeyPair(bits: number): { publicKeyDer: Buffer; privateKey: KeyObject } {
  let pair = pairs.get(bits);
  if (!pair) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    pair = { publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }), privateKey };
    pairs.set(bits, pair);
  }
  return pair;
}

export function kmsUnwrap(wrapped: Buffer, privateKey: KeyObject, wrappingAlgorithm: string): Buffer {
  const oaepHash = wrappingAlgorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const oaep = (data: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  if (wrappingAlgorithm.startsWith('RSAES_OAEP_')) return oaep(wrapped);
  const k = privateKey.asymmetricKeyDetails!.modulusLength! / 8;
  const aesKey = oaep(wrapped.subarray(0, k));
  if (aesKey.length !== 32) throw new Error(`the RSA part holds ${aesKey.length} bytes, not an AES-256 key`);
  const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
  return Buffer.concat([decipher.update(wrapped.subarray(k)), decipher.final()]);
}

/**
 * SoftHSM 2.6.1 zero-pads the key bytes to a multiple of 8 before RFC 5649 wrapping (fixed in
 * 2.7.0, commit f94aaffc), so an unwrapped PKCS#8 private key can be followed by 1-7 zero bytes
 * that are not part of the key. Strip them only where they are provably that padding: the DER
 * SEQUENCE's own length says where the key ends, everything after it is zero, fewer than 8
 * bytes, and the padded total is a multiple of 8. Anything else is returned untouched (and fails
 * the caller's exact-DER check). Returns the DER and how many bytes were removed.
 */
export function stripSoftHsm261Padding(plain: Buffer): { der: Buffer; padding: number } {
  const end = derSequenceEnd(plain);
  if (end === undefined || end >= plain.length) return { der: plain, padding: 0 };
  const tail = plain.subarray(end);
  const provablyPadding = tail.length < 8 && plain.length % 8 === 0 && tail.every((b) => b === 0);
  return provablyPadding ? { der: plain.subarray(0, end), padding: tail.length } : { der: plain, padding: 0 };
}

/** Where the DER SEQUENCE at the start of `der` ends (definite length only). */
export function derSequenceEnd(der: Buffer): number | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return 2 + n + len;
}
