/**
 * Just enough DER reading to check the *shape* of an imported PKCS#8 blob where node's parser is
 * lenient: it ignores trailing bytes, accepts explicit EC curve parameters when they match a
 * named curve, and says nothing about the RSAPrivateKey version (multi-prime keys). Parsing and
 * checking the key itself is left to `crypto.createPrivateKey`.
 */
export interface Tlv {
  tag: number;
  /** Offset of the value. */
  start: number;
  /** Offset just past the value. */
  end: number;
}

/** Reads one definite-length TLV at `offset`; throws on truncation or indefinite length. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = buf[offset];
  let len = buf[offset + 1];
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    if (start + n > limit) throw new Error('truncated DER');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start, end };
}

/** The children of a constructed TLV. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = parent.start;
  while (off < parent.end) {
    const t = readTlv(buf, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;

export interface Pkcs8Shape {
  /** Dotted algorithm OID, e.g. 1.2.840.113549.1.1.1. */
  algorithmOid: string;
  /** Tag of the AlgorithmIdentifier parameters (OID for a named curve, SEQUENCE for explicit ones). */
  parametersTag?: number;
  /** The named curve's OID, when the parameters are one. */
  parametersOid?: string;
  /** The privateKey OCTET STRING contents. */
  privateKey: Buffer;
}

/**
 * Splits a PKCS#8 PrivateKeyInfo (RFC 5208) and insists that the blob is exactly one structure:
 * KMS rejects trailing bytes after the DER.
 */
export function parsePkcs8(buf: Buffer): Pkcs8Shape {
  const outer = readTlv(buf, 0);
  if (outer.tag !== TAG_SEQUENCE) throw new Error('not a SEQUENCE');
  if (outer.end !== buf.length) throw new Error('trailing bytes after the PKCS#8 structure');
  const [version, algorithm, privateKey] = children(buf, outer);
  if (!version || version.tag !== TAG_INTEGER || !algorithm || algorithm.tag !== TAG_SEQUENCE || !privateKey || privateKey.tag !== TAG_OCTET_STRING) {
    throw new Error('not a PKCS#8 PrivateKeyInfo');
  }
  const [oid, params] = children(buf, algorithm);
  if (!oid || oid.tag !== TAG_OID) throw new Error('no algorithm OID');
  return {
    algorithmOid: decodeOid(buf.subarray(oid.start, oid.end)),
    parametersTag: params?.tag,
    parametersOid: params?.tag === TAG_OID ? decodeOid(buf.subarray(params.start, params.end)) : undefined,
    privateKey: buf.subarray(privateKey.start, privateKey.end),
  };
}

/** The version INTEGER of an RSAPrivateKey (RFC 8017 A.1.2): 0 = two-prime, 1 = multi-prime. */
export function rsaPrivateKeyVersion(rsaPrivateKey: Buffer): number {
  const seq = readTlv(rsaPrivateKey, 0);
  if (seq.tag !== TAG_SEQUENCE) throw new Error('not an RSAPrivateKey');
  const [version] = children(rsaPrivateKey, seq);
  if (!version || version.tag !== TAG_INTEGER) throw new Error('not an RSAPrivateKey');
  return rsaPrivateKey.readUIntBE(version.start, Math.min(6, version.end - version.start));
}

function decodeOid(b: Buffer): string {
  if (b.length === 0) return '';
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
