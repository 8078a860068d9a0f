/**
 * Sign / Verify as KMS does them: RSASSA-PSS (MGF1 with the same hash, salt length = hash length),
 * RSASSA-PKCS1-v1_5, and ECDSA with DER-encoded signatures, over a RAW message (hashed here) or a
 * DIGEST the caller computed.
 *
 * Node signs and verifies RAW messages itself. Node has no API for a pre-computed digest, so for
 * MessageType DIGEST the padding is built here and applied with the raw RSA operation, and ECDSA
 * uses the curve arithmetic of `crypto.createECDH` (k·G) with the scalar arithmetic done in BigInt.
 */
import * as crypto from 'crypto';
import { modInverse, toBigInt, toBuffer } from './bigint';
import { TAG_INTEGER, TAG_SEQUENCE, children, readTlv } from './der';
import type { SigningAlgorithm } from './specs';
import { signingHash } from './specs';

type Hash = 'sha256' | 'sha384' | 'sha512';

const DIGEST_INFO_PREFIX: Record<Hash, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** Orders of the ECDSA curves (from `openssl ecparam -param_enc explicit -text`). */
const CURVE_ORDERS: Record<string, bigint> = {
  prime256v1: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  secp384r1: BigInt('0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  secp521r1: BigInt(
    '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
  secp256k1: BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'),
};

export function digestLength(alg: SigningAlgorithm): number {
  return crypto.createHash(signingHash(alg)).digest().length;
}

export function sign(alg: SigningAlgorithm, privateKey: crypto.KeyObject, message: Buffer, isDigest: boolean): Buffer {
  const hash = signingHash(alg) as Hash;
  if (!isDigest) return crypto.sign(hash, message, rsaOptions(alg, privateKey));
  if (alg.startsWith('RSASSA_PKCS1')) {
    return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING }, digestInfo(hash, message));
  }
  if (alg.startsWith('RSASSA_PSS')) {
    const bits = privateKey.asymmetricKeyDetails!.modulusLength!;
    return crypto.privateEncrypt({ key: privateKey, padding: crypto.constants.RSA_NO_PADDING }, leftPad(emsaPssEncode(hash, message, bits - 1), bits));
  }
  return ecdsaSignDigest(privateKey, message);
}

export function verify(alg: SigningAlgorithm, privateKey: crypto.KeyObject, message: Buffer, isDigest: boolean, signature: Buffer): boolean {
  const hash = signingHash(alg) as Hash;
  const publicKey = crypto.createPublicKey(privateKey);
  try {
    if (!isDigest) return crypto.verify(hash, message, rsaOptions(alg, publicKey), signature);
    if (alg.startsWith('RSASSA_PKCS1')) {
      const recovered = crypto.publicDecrypt({ key: publicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
      return recovered.equals(digestInfo(hash, message));
    }
    if (alg.startsWith('RSASSA_PSS')) {
      const bits = publicKey.asymmetricKeyDetails!.modulusLength!;
      const em = crypto.publicDecrypt({ key: publicKey, padding: crypto.constants.RSA_NO_PADDING }, signature);
      return emsaPssVerify(hash, message, em, bits - 1);
    }
    return ecdsaVerifyDigest(privateKey, message, signature);
  } catch {
    return false;
  }
}

function rsaOptions(alg: SigningAlgorithm, key: crypto.KeyObject): crypto.SignKeyObjectInput {
  if (alg.startsWith('RSASSA_PSS')) {
    return { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST };
  }
  if (alg.startsWith('RSASSA_PKCS1')) return { key, padding: crypto.constants.RSA_PKCS1_PADDING };
  return { key, dsaEncoding: 'der' };
}

function digestInfo(hash: Hash, digest: Buffer): Buffer {
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);
}

function leftPad(b: Buffer, modulusBits: number): Buffer {
  const k = Math.ceil(modulusBits / 8);
  return b.length >= k ? b : Buffer.concat([Buffer.alloc(k - b.length), b]);
}

function mgf1(hash: Hash, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let total = 0;
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = crypto.createHash(hash).update(seed).update(c).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with sLen = hLen. */
function emsaPssEncode(hash: Hash, mHash: Buffer, emBits: number): Buffer {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const salt = crypto.randomBytes(hLen);
  const h = crypto.createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with sLen = hLen. `block` is the k-byte RSAVP1 output. */
function emsaPssVerify(hash: Hash, mHash: Buffer, block: Buffer, emBits: number): boolean {
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  if (block.subarray(0, block.length - emLen).some((b) => b !== 0)) return false;
  const em = block.subarray(block.length - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0] & ~topMask) !== 0) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.from(maskedDb.map((b, i) => b ^ mask[i]));
  db[0] &= topMask;
  const psLen = emLen - 2 * hLen - 2;
  if (db.subarray(0, psLen).some((b) => b !== 0) || db[psLen] !== 1) return false;
  const salt = db.subarray(psLen + 1);
  const h2 = crypto.createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return crypto.timingSafeEqual(h, h2);
}

interface EcParams {
  curve: string;
  n: bigint;
  d: bigint;
  size: number;
}

function ecParams(privateKey: crypto.KeyObject): EcParams {
  const curve = privateKey.asymmetricKeyDetails?.namedCurve ?? '';
  const n = CURVE_ORDERS[curve];
  if (!n) throw new Error(`ECDSA over a digest is not supported on curve ${curve}`);
  const jwk = privateKey.export({ format: 'jwk' });
  const dBytes = Buffer.from(jwk.d!, 'base64url');
  return { curve, n, d: toBigInt(dBytes), size: dBytes.length };
}

/** The x-coordinate of k·G, via ECDH's public-key computation. */
function xOfMultiple(p: EcParams, k: bigint): bigint {
  const ecdh = crypto.createECDH(p.curve);
  ecdh.setPrivateKey(toBuffer(k, p.size));
  const point = ecdh.getPublicKey(); // 04 | X | Y
  return toBigInt(point.subarray(1, 1 + (point.length - 1) / 2));
}

/** The digest as an integer, truncated to the bit length of n (SEC 1 §4.1.3 step 5). */
function digestToInt(digest: Buffer, n: bigint): bigint {
  const nBits = n.toString(2).length;
  let e = toBigInt(digest);
  if (digest.length * 8 > nBits) e >>= BigInt(digest.length * 8 - nBits);
  return e;
}

function ecdsaSignDigest(privateKey: crypto.KeyObject, digest: Buffer): Buffer {
  const p = ecParams(privateKey);
  const e = digestToInt(digest, p.n);
  for (;;) {
    const k = (toBigInt(crypto.randomBytes(p.size + 8)) % (p.n - 1n)) + 1n;
    const r = xOfMultiple(p, k) % p.n;
    if (r === 0n) continue;
    const s = (modInverse(k, p.n)! * (e + r * p.d)) % p.n;
    if (s === 0n) continue;
    return derSignature(r, s);
  }
}

/**
 * Holding the private key d, (r, s) is valid for e iff k' = s⁻¹(e + r·d) gives (k'·G).x ≡ r:
 * u1·G + u2·Q = (e·s⁻¹ + r·s⁻¹·d)·G = k'·G, which is exactly the ECDSA verification equation.
 */
function ecdsaVerifyDigest(privateKey: crypto.KeyObject, digest: Buffer, signature: Buffer): boolean {
  const p = ecParams(privateKey);
  const outer = readTlv(signature, 0);
  if (outer.tag !== TAG_SEQUENCE || outer.end !== signature.length) return false;
  const parts = children(signature, outer);
  if (parts.length !== 2 || parts.some((t) => t.tag !== TAG_INTEGER)) return false;
  const [r, s] = parts.map((t) => toBigInt(signature.subarray(t.start, t.end)));
  if (r <= 0n || r >= p.n || s <= 0n || s >= p.n) return false;
  const k = (modInverse(s, p.n)! * (digestToInt(digest, p.n) + r * p.d)) % p.n;
  return k !== 0n && xOfMultiple(p, k) % p.n === r;
}

function derSignature(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let b = toBuffer(v);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([TAG_INTEGER]), derLength(b.length), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([TAG_SEQUENCE]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}
