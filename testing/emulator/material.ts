/**
 * Key material: unwrapping what ImportKeyMaterial receives ("Encrypt the key material"), checking it
 * against the key spec ("Requirements for imported key material" in "Importing key material"), its
 * canonical form, and the identifiers derived from it (ImportKeyMaterial API reference). The guide
 * pages are in the AWS KMS Developer Guide (README.md, "Sources").
 *
 * Nothing here logs or returns plaintext material outside the emulator's state; the only thing
 * exposed to callers (inspectKey) is the SHA-256 fingerprint of the canonical form.
 */
import * as crypto from 'crypto';
import { promisify } from 'util';
import { gcd, modInverse, toBigInt, toBuffer } from './bigint';
import { OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION, TAG_OID, parsePkcs8, rsaPrivateKeyVersion } from './der';
import { incorrectKeyMaterial, invalidCiphertext } from './errors';
import { EC_CURVES, KeySpec, RSA_MODULUS_BITS, WrappingAlgorithm, hmacBits, isChinaRegion, keyFamily } from './specs';

const generateKeyPair = promisify(crypto.generateKeyPair);

/** RFC 5649 alternative initial value, as in the AWS guide's `openssl enc -id-aes256-wrap-pad -iv A65959A6`. */
const KWP_IV = Buffer.from('A65959A6', 'hex');

/**
 * Unwraps EncryptedKeyMaterial with the private half of the wrapping key pair the import token was
 * issued with ("Encrypt the key material"). Every failure is InvalidCiphertextException without a message.
 *
 * - RSAES_OAEP_SHA_1/256: the blob is exactly one RSA block (k bytes), OAEP with MGF1 over the same
 *   hash and an empty label.
 * - RSA_AES_KEY_WRAP_SHA_1/256: the first k bytes are the OAEP-wrapped 256-bit AES key, the rest is
 *   the material wrapped with AES Key Wrap with Padding (RFC 5649).
 */
export async function unwrapKeyMaterial(algorithm: WrappingAlgorithm, wrappingKey: crypto.KeyObject, encrypted: Buffer): Promise<Buffer> {
  const k = (wrappingKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  try {
    switch (algorithm) {
      case 'RSAES_OAEP_SHA_1':
      case 'RSAES_OAEP_SHA_256':
        if (encrypted.length !== k) throw invalidCiphertext();
        return await oaepDecrypt(wrappingKey, oaepHash, encrypted);
      case 'RSA_AES_KEY_WRAP_SHA_1':
      case 'RSA_AES_KEY_WRAP_SHA_256': {
        const wrapped = encrypted.subarray(k);
        if (wrapped.length < 16 || wrapped.length % 8 !== 0) throw invalidCiphertext();
        const aesKey = await oaepDecrypt(wrappingKey, oaepHash, encrypted.subarray(0, k));
        try {
          // The guide generates a 256-bit AES key; other sizes are rejected (inferred).
          if (aesKey.length !== 32) throw invalidCiphertext();
          const decipher = crypto.createDecipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
          return Buffer.concat([decipher.update(wrapped), decipher.final()]);
        } finally {
          aesKey.fill(0);
        }
      }
      default:
        // RSAES_PKCS1_V1_5 and SM2PKE never get a token (see GetParametersForImport).
        throw invalidCiphertext();
    }
  } catch {
    throw invalidCiphertext();
  }
}

/**
 * RSA-OAEP decryption through WebCrypto, which node runs on its thread pool: imports that arrive
 * together (from many Regions at once, say) are unwrapped in parallel, as the real service's many
 * hosts would, instead of queueing on the emulator's one JavaScript thread (an RSA_4096
 * decryption takes ~3.5 ms of CPU). The CryptoKey is made once per wrapping key and hash.
 */
const cryptoKeys = new WeakMap<crypto.KeyObject, Map<string, Promise<crypto.webcrypto.CryptoKey>>>();
async function oaepDecrypt(key: crypto.KeyObject, oaepHash: string, block: Buffer): Promise<Buffer> {
  let byHash = cryptoKeys.get(key);
  if (!byHash) cryptoKeys.set(key, (byHash = new Map()));
  let cryptoKey = byHash.get(oaepHash);
  if (!cryptoKey) {
    const algorithm = { name: 'RSA-OAEP', hash: oaepHash === 'sha1' ? 'SHA-1' : 'SHA-256' };
    cryptoKey = crypto.webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['decrypt']);
    byHash.set(oaepHash, cryptoKey);
  }
  return Buffer.from(await crypto.webcrypto.subtle.decrypt({ name: 'RSA-OAEP' }, await cryptoKey, block));
}

/**
 * Checks plaintext material against the key spec and returns its canonical form
 * (IncorrectKeyMaterialException otherwise; the mapping of format errors onto that exception is
 * inferred).
 *
 * Canonical forms, used to decide whether two imports are "the same key material":
 * - SYMMETRIC_DEFAULT, HMAC_*: the bytes themselves.
 * - RSA_*: PKCS#8 DER re-encoded from (n, e, p, q) with p > q and d = e⁻¹ mod λ(n), so any
 *   valid encoding of the same key pair compares equal.
 * - ECC_* (NIST, secp256k1): PKCS#8 DER re-encoded from the private scalar, named curve,
 *   uncompressed public point.
 * - SM2: PKCS#8 DER as re-exported by OpenSSL.
 */
export function canonicalKeyMaterial(spec: KeySpec, region: string, plaintext: Buffer): Buffer {
  switch (keyFamily(spec)) {
    case 'SYMMETRIC': {
      // 256-bit AES; in China Regions 128-bit SM4 ("Requirements for imported key material").
      const expected = isChinaRegion(region) ? 16 : 32;
      if (plaintext.length !== expected) {
        throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be exactly ${expected} bytes.`);
      }
      return Buffer.from(plaintext);
    }
    case 'HMAC': {
      // "at least the same length specified by the key spec ... maximum 1024 bits" (same page).
      const min = hmacBits(spec) / 8;
      if (plaintext.length < min || plaintext.length > 128) {
        throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be ${min} to 128 bytes.`);
      }
      return Buffer.from(plaintext);
    }
    case 'RSA':
      return canonicalRsa(spec, plaintext);
    case 'ECC':
      return canonicalEc(spec, plaintext);
    case 'SM2':
      if (!isChinaRegion(region)) throw incorrectKeyMaterial('SM2 key material can be imported only in China Regions.');
      return canonicalEc(spec, plaintext);
    default:
      throw incorrectKeyMaterial(`Key material cannot be imported for ${spec} KMS keys.`);
  }
}

/** SHA-256 (hex) of the canonical form of `plaintext` for a key of `spec`: what inspectKey reports. */
export function keyMaterialFingerprint(spec: KeySpec, plaintext: Buffer, region = 'us-east-1'): string {
  return sha256Hex(canonicalKeyMaterial(spec, region, plaintext));
}

export function sha256Hex(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

/**
 * KeyMaterialId: "based on the KMS key ID and the imported key material" (ImportKeyMaterial API reference):
 * hex(HMAC-SHA256(key = key ID, message = canonical material)). Replicas of a multi-Region key
 * share the key ID, so they compute the same id for the same material.
 */
export function keyMaterialId(keyId: string, canonical: Buffer): string {
  return crypto.createHmac('sha256', Buffer.from(keyId, 'utf8')).update(canonical).digest('hex');
}

/** The private key object of asymmetric canonical material. */
export function privateKeyOf(canonical: Buffer): crypto.KeyObject {
  return crypto.createPrivateKey({ key: canonical, format: 'der', type: 'pkcs8' });
}

/** Fresh material for an AWS_KMS-origin key (undefined for specs the emulator cannot compute with). */
export async function generateKeyMaterial(spec: KeySpec, region: string): Promise<Buffer | undefined> {
  const family = keyFamily(spec);
  switch (family) {
    case 'SYMMETRIC':
      return crypto.randomBytes(isChinaRegion(region) ? 16 : 32);
    case 'HMAC':
      return crypto.randomBytes(hmacBits(spec) / 8);
    case 'RSA': {
      const { privateKey } = await generateKeyPair('rsa', { modulusLength: RSA_MODULUS_BITS[spec]! });
      return canonicalKeyMaterial(spec, region, privateKey.export({ format: 'der', type: 'pkcs8' }));
    }
    case 'ECC':
    case 'SM2': {
      const { privateKey } = await generateKeyPair('ec', { namedCurve: EC_CURVES[spec]! });
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    }
    case 'ED25519': {
      const { privateKey } = await generateKeyPair('ed25519');
      return privateKey.export({ format: 'der', type: 'pkcs8' });
    }
    default:
      return undefined;
  }
}

function parsePrivateKey(plaintext: Buffer, spec: KeySpec, expectedOid: string) {
  let shape;
  let key: crypto.KeyObject;
  try {
    shape = parsePkcs8(plaintext);
    key = privateKeyOf(plaintext);
  } catch {
    throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be a DER-encoded PKCS#8 private key.`);
  }
  if (shape.algorithmOid !== expectedOid) {
    throw incorrectKeyMaterial(`Key material is not a ${keyFamily(spec)} private key, which a ${spec} KMS key requires.`);
  }
  return { shape, key };
}

function canonicalRsa(spec: KeySpec, plaintext: Buffer): Buffer {
  const { shape, key } = parsePrivateKey(plaintext, spec, OID_RSA_ENCRYPTION);
  const bits = RSA_MODULUS_BITS[spec]!;
  if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== bits) {
    throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be an RSA private key with a ${bits}-bit modulus.`);
  }
  let version: number;
  try {
    version = rsaPrivateKeyVersion(shape.privateKey);
  } catch {
    throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be a DER-encoded PKCS#8 private key.`);
  }
  if (version !== 0) throw incorrectKeyMaterial('RSA key material must have exactly two prime factors.');

  const jwk = key.export({ format: 'jwk' });
  const n = fromB64u(jwk.n!);
  const e = fromB64u(jwk.e!);
  let p = fromB64u(jwk.p!);
  let q = fromB64u(jwk.q!);
  if (p * q !== n || p <= 1n || q <= 1n) throw incorrectKeyMaterial('RSA key material is inconsistent: p·q does not equal the modulus.');
  if (p < q) [p, q] = [q, p];
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(e, lambda);
  const qi = modInverse(q, p);
  if (d === undefined || qi === undefined) throw incorrectKeyMaterial('RSA key material is inconsistent: the public exponent is not invertible.');
  const canonical = {
    kty: 'RSA',
    n: jwk.n!,
    e: jwk.e!,
    d: toB64u(d),
    p: toB64u(p),
    q: toB64u(q),
    dp: toB64u(d % (p - 1n)),
    dq: toB64u(d % (q - 1n)),
    qi: toB64u(qi),
  };
  return crypto.createPrivateKey({ key: canonical, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
}

/** 1.2.156.10197.1.301, GB/T 32918 SM2 (GM/T 0006). */
const SM2_CURVE_OID = '1.2.156.10197.1.301';

function canonicalEc(spec: KeySpec, plaintext: Buffer): Buffer {
  const { shape, key } = parsePrivateKey(plaintext, spec, OID_EC_PUBLIC_KEY);
  // Explicit curve parameters are rejected even when they describe the right curve ("Requirements
  // for imported key material"); node would quietly map them onto the named curve.
  if (shape.parametersTag !== TAG_OID) throw incorrectKeyMaterial('EC key material must name its curve; explicit curve parameters are not supported.');
  const curve = EC_CURVES[spec]!;
  if (spec === 'SM2') {
    // Node loads an SM2 key (OpenSSL's key type SM2) without naming its type or curve: go by the
    // curve OID. OpenSSL has no JWK form for SM2; its own re-encoding is canonical enough there.
    if (shape.parametersOid !== SM2_CURVE_OID) throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be an EC private key on curve ${curve}.`);
    return key.export({ format: 'der', type: 'pkcs8' });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== curve) {
    throw incorrectKeyMaterial(`Key material for a ${spec} KMS key must be an EC private key on curve ${curve}.`);
  }
  const jwk = key.export({ format: 'jwk' });
  return crypto
    .createPrivateKey({ key: { kty: 'EC', crv: jwk.crv!, d: jwk.d!, x: jwk.x!, y: jwk.y! }, format: 'jwk' })
    .export({ format: 'der', type: 'pkcs8' });
}

function fromB64u(s: string): bigint {
  return toBigInt(Buffer.from(s, 'base64url'));
}

function toB64u(v: bigint): string {
  return toBuffer(v).toString('base64url');
}
