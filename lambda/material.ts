import { createPrivateKey, KeyObject } from 'crypto';
import { ErrorCodes, MaterialEncodings } from '../lib/private/contract';
import { IMPORTABLE_KEY_SPECS } from '../lib/private/import-rules';
import { ImportError } from './errors';

/**
 * Turns a secret's value into the bytes KMS expects for a key spec, and checks them against the
 * spec before anything is sent: exact length for symmetric keys, KMS's length range for HMAC,
 * PKCS#8 of the right algorithm, size or curve for asymmetric keys. Errors say what was expected
 * and what was found (lengths, curves, sizes), never the value.
 * KMS's rules: docs.aws.amazon.com/kms/latest/developerguide/importing-keys-conceptual.html
 */

/** Decodes a text secret value. The input string is never echoed in an error. */
export function decodeText(text: string, encoding: string, what: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  switch (encoding) {
    case MaterialEncodings.BASE64: {
      if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 === 1) {
        throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${what} is not valid base64 (${compact.length} characters after removing white space); store it base64-encoded (as 'openssl rand -base64 32' or 'base64' prints it)`);
      }
      return Buffer.from(compact, 'base64');
    }
    case MaterialEncodings.HEX: {
      const hex = compact.replace(/^0x/i, '');
      if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
        throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${what} is not valid hexadecimal (${hex.length} characters, an even number of 0-9a-f expected); store it e.g. from 'openssl rand -hex 32'`);
      }
      return Buffer.from(hex, 'hex');
    }
    case MaterialEncodings.PEM:
      return pemToPkcs8Der(text, what);
    default:
      throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `encoding '${encoding}' is not one of ${Object.values(MaterialEncodings).join(', ')}`);
  }
}

const PEM_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];
/**
 * Labels a message may name. A label is text from the secret's value, and a value could be
 * anything (hex of the material pasted into the header), so only these known ones are echoed.
 */
const NAMEABLE_PEM_LABELS = [...PEM_LABELS, 'ENCRYPTED PRIVATE KEY', 'PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE', 'EC PARAMETERS', 'CERTIFICATE REQUEST'];
const pemLabel = (label: string) => (NAMEABLE_PEM_LABELS.includes(label) ? `'${label}'` : 'unrecognised');

function pemToPkcs8Der(text: string, what: string): Buffer {
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  if (labels.length === 0) {
    throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${what} is not PEM (no '-----BEGIN ...-----' line); store a PKCS#8 'PRIVATE KEY' PEM, or choose another encoding`);
  }
  if (labels.length > 1) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} holds ${labels.length} PEM blocks (${labels.map(pemLabel).join(', ')}); store exactly one private key`);
  }
  if (labels[0] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is an encrypted PEM; KMS needs the plain private key, so store it unencrypted in the secret (the secret itself is encrypted)`);
  }
  if (!PEM_LABELS.includes(labels[0])) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is ${NAMEABLE_PEM_LABELS.includes(labels[0]) ? `a '${labels[0]}' PEM` : 'a PEM with an unrecognised label (not shown: it is part of the secret\'s value)'}; expected one of ${PEM_LABELS.map((l) => `'${l}'`).join(', ')}`);
  }
  if (labels[0] === 'PRIVATE KEY') {
    // A PKCS#8 PEM is its DER in base64: taken as it is, so that KMS gets exactly the stored key
    // and checkMaterial parses it once (node's createPrivateKey costs ~0.35 ms per parse).
    const body = /-----BEGIN PRIVATE KEY-----([^-]*)-----END PRIVATE KEY-----/.exec(text)?.[1].replace(/\s+/g, '') ?? '';
    const der = /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64') : Buffer.alloc(0);
    if (derLength(der) === der.length) return der;
    der.fill(0);
  } else {
    try {
      // Node converts the traditional RSA/EC forms to PKCS#8 for us.
      return createPrivateKey({ key: text, format: 'pem' }).export({ type: 'pkcs8', format: 'der' });
    } catch {
      // Reported below.
    }
  }
  throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} has a '${labels[0]}' PEM header but its content is not a valid private key`);
}

/** Symmetric key length by partition: AES-256 everywhere, SM4-128 in China. */
export function symmetricKeyLength(partition: string | undefined): number {
  return partition === 'aws-cn' ? 16 : 32;
}

/** HMAC material: at least the spec's size, at most 1024 bits. */
export function hmacLengthRange(keySpec: string): [number, number] {
  return [Number(keySpec.replace('HMAC_', '')) / 8, 128];
}

const CURVES: Record<string, string> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
  ECC_SECG_P256K1: 'secp256k1',
  SM2: 'SM2',
};

/**
 * Checks material (already decoded to bytes) against a key spec. Throws an ImportError naming
 * expected vs found.
 */
export function checkMaterial(keySpec: string, material: Buffer, partition: string | undefined, what: string): void {
  const spec = IMPORTABLE_KEY_SPECS[keySpec];
  if (!spec) throw new ImportError(ErrorCodes.KEY_SPEC_NOT_IMPORTABLE, `key spec '${keySpec}' cannot have imported key material`);
  switch (spec.kind) {
    case 'SYMMETRIC': {
      const expected = symmetricKeyLength(partition);
      if (material.length !== expected) {
        throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is ${material.length} bytes; a ${keySpec} key needs exactly ${expected} bytes (${expected * 8}-bit)${partition === 'aws-cn' ? ' in the China partition' : ''}`);
      }
      return;
    }
    case 'HMAC': {
      const [min, max] = hmacLengthRange(keySpec);
      if (material.length < min || material.length > max) {
        throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is ${material.length} bytes; a ${keySpec} key needs ${min} to ${max} bytes`);
      }
      return;
    }
    default:
      checkPrivateKey(keySpec, spec.kind, material, what);
  }
}

function checkPrivateKey(keySpec: string, kind: string, der: Buffer, what: string): void {
  const total = derLength(der);
  if (total === undefined) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is not a DER-encoded PKCS#8 private key (${der.length} bytes that do not start with an ASN.1 SEQUENCE); a ${keySpec} key needs PKCS#8`);
  }
  if (total !== der.length) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} has ${der.length - total} unexpected bytes after the ${total}-byte PKCS#8 private key; store exactly one DER private key`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is not a valid PKCS#8 private key (${der.length} bytes); a ${keySpec} key needs a PKCS#8 private key`);
  }
  const type: string | undefined = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (kind === 'RSA') {
    if (type !== 'rsa') {
      throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is a${type === 'ec' ? 'n' : ''} ${type ?? 'unknown'} private key; a ${keySpec} key needs an RSA private key`);
    }
    const bits = Number(keySpec.replace('RSA_', ''));
    if (details.modulusLength !== bits) {
      throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is a ${details.modulusLength}-bit RSA private key; a ${keySpec} key needs ${bits} bits`);
    }
    // KMS accepts two-prime RSA only: RSAPrivateKey version 0 (RFC 8017 A.1.2); multi-prime is version 1.
    if (rsaPrivateKeyVersion(der) !== 0) {
      throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is a multi-prime RSA private key; KMS accepts only two-prime RSA keys`);
    }
    return;
  }
  const curve = CURVES[keySpec];
  const found = type === 'ec' ? details.namedCurve : type === 'sm2' || isSm2Key(type, der) ? 'SM2' : undefined;
  if (type !== 'ec' && found !== 'SM2') {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is a${type === 'rsa' ? 'n' : ''} ${type ?? 'unknown'} private key; a ${keySpec} key needs an EC private key on curve ${curve}`);
  }
  if (found !== curve) {
    throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `${what} is an EC private key on curve ${found ?? 'with explicit parameters'}; a ${keySpec} key needs curve ${curve}${found ? '' : ' named by OID'}`);
  }
}

/**
 * Node parses a PKCS#8 SM2 key (OpenSSL 3 gives it the key type SM2) without naming its type or
 * curve; the curve's OID (1.2.156.10197.1.301) in the AlgorithmIdentifier says what it is.
 */
const SM2_CURVE_OID = Buffer.from('06082a811ccf5501822d', 'hex');
function isSm2Key(type: string | undefined, der: Buffer): boolean {
  return type === undefined && der.subarray(0, 32).includes(SM2_CURVE_OID);
}

/** One DER element at `offset`: its tag, where its content starts, and where it ends. */
function readElement(der: Buffer, offset: number): { tag: number; start: number; end: number } | undefined {
  if (der.length < offset + 2) return undefined;
  const first = der[offset + 1];
  if (first < 0x80) return { tag: der[offset], start: offset + 2, end: offset + 2 + first };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || der.length < offset + 2 + n) return undefined;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[offset + 2 + i];
  return { tag: der[offset], start: offset + 2 + n, end: offset + 2 + n + len };
}

/** Total length of the DER element at the start of `der` (tag + length + content), if it is a SEQUENCE. */
function derLength(der: Buffer): number | undefined {
  const element = readElement(der, 0);
  return element?.tag === 0x30 ? element.end : undefined;
}

/**
 * The version INTEGER of the RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (RFC 5208:
 * SEQUENCE { version, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey } }).
 */
function rsaPrivateKeyVersion(pkcs8: Buffer): number | undefined {
  const info = readElement(pkcs8, 0);
  const version = info && readElement(pkcs8, info.start);
  const algorithm = version && readElement(pkcs8, version.end);
  const octets = algorithm && readElement(pkcs8, algorithm.end);
  const rsaKey = octets?.tag === 0x04 ? readElement(pkcs8, octets.start) : undefined;
  const rsaVersion = rsaKey?.tag === 0x30 ? readElement(pkcs8, rsaKey.start) : undefined;
  return rsaVersion?.tag === 0x02 && rsaVersion.end === rsaVersion.start + 1 ? pkcs8[rsaVersion.start] : undefined;
}
