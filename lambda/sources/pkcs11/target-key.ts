import { ErrorCodes, Pkcs11SourceProperties } from '../../../lib/private/contract';
import { IMPORTABLE_KEY_SPECS, MaterialKind } from '../../../lib/private/import-rules';
import { ImportError } from '../../errors';
import { hmacLengthRange, symmetricKeyLength } from '../../material';
import { Handle, Pkcs11Api, Template } from './binding';
import * as C from './constants';
import { step } from './errors';

/** The key to import, as far as its public attributes tell (its value is never read). */
export interface TargetKey {
  readonly handle: Handle;
  readonly kind: MaterialKind;
  /** CKA_VALUE_LEN of a secret key, when the HSM tells it. */
  readonly valueLength?: number;
  /** For messages: `key 'x' (CKA_ID 01) on token 't'`. */
  readonly name: string;
}

/** `key 'label' (CKA_ID 0a0b) on token 'tok'`. */
export function keyName(source: Pkcs11SourceProperties): string {
  const parts = [source.KeyLabel !== undefined ? `'${source.KeyLabel}'` : undefined, source.KeyId !== undefined ? `(CKA_ID ${source.KeyId})` : undefined];
  return `key ${parts.filter(Boolean).join(' ')} on token '${source.TokenLabel}'`;
}

/**
 * Finds the one key that KeyLabel / KeyId name, of the class the key spec needs (a secret key for
 * SYMMETRIC_DEFAULT and HMAC, a private key for RSA, ECC and SM2), and checks it against the key
 * spec from its non-sensitive attributes, so a mismatch fails before anything is sent to KMS.
 */
export function findTargetKey(api: Pkcs11Api, session: Handle, source: Pkcs11SourceProperties, keySpec: string, partition: string): TargetKey {
  const spec = IMPORTABLE_KEY_SPECS[keySpec];
  if (!spec) throw new ImportError(ErrorCodes.KEY_SPEC_NOT_IMPORTABLE, `key spec '${keySpec}' cannot have imported key material`);
  const name = keyName(source);
  const secret = spec.kind === 'SYMMETRIC' || spec.kind === 'HMAC';
  const wantedClass = secret ? C.CKO_SECRET_KEY : C.CKO_PRIVATE_KEY;
  const selector: Template = [];
  if (source.KeyLabel !== undefined) selector.push({ type: C.CKA_LABEL, value: source.KeyLabel });
  if (source.KeyId !== undefined) selector.push({ type: C.CKA_ID, value: Buffer.from(source.KeyId, 'hex') });

  const found = findObjects(api, session, [{ type: C.CKA_CLASS, value: wantedClass }, ...selector], name);
  if (found.length === 0) {
    // Say what is there instead, if anything: a public key or a secret key under that name.
    const others = findObjects(api, session, selector, name).map((h) => className(readUlong(api, session, h, C.CKA_CLASS)));
    const there = others.length ? `; the token has only ${others.join(', ')} under that name` : '';
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `no ${secret ? 'secret' : 'private'} key matches ${name} (a ${keySpec} key needs a ${secret ? 'secret' : 'private'} key)${there}; check keyLabel / keyId and that the PIN's user can see the key`);
  }
  if (found.length > 1) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${found.length} ${secret ? 'secret' : 'private'} keys match ${name}; name exactly one key (set keyId as well as keyLabel)`);
  }
  const handle = found[0];
  const keyType = readUlong(api, session, handle, C.CKA_KEY_TYPE);
  // PKCS#11 forbids wrapping a key with CKA_EXTRACTABLE=false, and the flag can never be set
  // back to true: such a key can never reach KMS. Say so now rather than as a C_WrapKey failure.
  if (readBool(api, session, handle, C.CKA_EXTRACTABLE) === false) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} has CKA_EXTRACTABLE=false, so no HSM will wrap it (PKCS#11 forbids it, and the flag cannot be turned back on); generate the key with CKA_EXTRACTABLE=true (CKA_SENSITIVE=true is fine)`);
  }
  const mismatch = (found: string, needed: string) => new ImportError(ErrorCodes.MATERIAL_FORMAT, `${name} is ${found}; a ${keySpec} key needs ${needed}`);

  switch (spec.kind) {
    case 'SYMMETRIC': {
      const expected = symmetricKeyLength(partition);
      // In China, SYMMETRIC_DEFAULT is SM4, for which PKCS#11 v2.40 has no key type: any secret key.
      if (partition !== 'aws-cn' && keyType !== C.CKK_AES) throw mismatch(`a ${keyTypeName(keyType)} secret key`, 'an AES key (CKK_AES)');
      const valueLength = readUlong(api, session, handle, C.CKA_VALUE_LEN);
      if (valueLength !== undefined && valueLength !== expected) throw mismatch(`${valueLength} bytes long`, `exactly ${expected} bytes (${expected * 8}-bit)`);
      return { handle, kind: spec.kind, valueLength, name };
    }
    case 'HMAC': {
      const hmacTypes = [C.CKK_GENERIC_SECRET, C.CKK_SHA_1_HMAC, C.CKK_SHA224_HMAC, C.CKK_SHA256_HMAC, C.CKK_SHA384_HMAC, C.CKK_SHA512_HMAC];
      if (keyType === undefined || !hmacTypes.includes(keyType)) throw mismatch(`a ${keyTypeName(keyType)} secret key`, 'a generic secret or HMAC key (CKK_GENERIC_SECRET, CKK_SHA*_HMAC)');
      const [min, max] = hmacLengthRange(keySpec);
      const valueLength = readUlong(api, session, handle, C.CKA_VALUE_LEN);
      if (valueLength !== undefined && (valueLength < min || valueLength > max)) throw mismatch(`${valueLength} bytes long`, `${min} to ${max} bytes`);
      return { handle, kind: spec.kind, valueLength, name };
    }
    case 'RSA': {
      if (keyType !== C.CKK_RSA) throw mismatch(`a ${keyTypeName(keyType)} private key`, 'an RSA private key');
      const bits = Number(keySpec.replace('RSA_', ''));
      const modulus = readBytes(api, session, handle, C.CKA_MODULUS);
      const found = modulus ? bitLength(modulus) : undefined;
      if (found !== undefined && found !== bits) throw mismatch(`a ${found}-bit RSA private key`, `${bits} bits`);
      return { handle, kind: spec.kind, name };
    }
    default: {
      // ECC and SM2: an EC private key on the named curve of the key spec.
      if (keyType !== C.CKK_EC) throw mismatch(`a ${keyTypeName(keyType)} private key`, 'an EC private key');
      const params = readBytes(api, session, handle, C.CKA_EC_PARAMS)?.toString('hex');
      const expected = C.EC_PARAMS_BY_KEY_SPEC[keySpec];
      if (params !== undefined && params !== expected) throw mismatch(`an EC key with CKA_EC_PARAMS ${params}`, `the curve OID ${expected}`);
      return { handle, kind: spec.kind, name };
    }
  }
}

function findObjects(api: Pkcs11Api, session: Handle, template: Template, name: string): Handle[] {
  return step(`searching the token for ${name}`, () => {
    api.C_FindObjectsInit(session, template);
    try {
      // Two are enough to tell "exactly one" from "ambiguous".
      return api.C_FindObjects(session, 2);
    } finally {
      api.C_FindObjectsFinal(session);
    }
  });
}

/** One attribute's raw value, or undefined when the HSM does not have or show it. */
function readBytes(api: Pkcs11Api, session: Handle, object: Handle, type: number): Buffer | undefined {
  try {
    return api.C_GetAttributeValue(session, object, [{ type }])[0]?.value;
  } catch {
    // CKR_ATTRIBUTE_TYPE_INVALID / CKR_ATTRIBUTE_SENSITIVE: the check is skipped and the HSM has
    // the last word at C_WrapKey.
    return undefined;
  }
}

/** A CK_ULONG attribute (host byte order, 8 bytes on 64-bit Linux). */
function readUlong(api: Pkcs11Api, session: Handle, object: Handle, type: number): number | undefined {
  const b = readBytes(api, session, object, type);
  if (!b || b.length === 0) return undefined;
  return b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUIntLE(0, Math.min(b.length, 6));
}

/** A CK_BBOOL attribute. */
function readBool(api: Pkcs11Api, session: Handle, object: Handle, type: number): boolean | undefined {
  const b = readBytes(api, session, object, type);
  return b && b.length > 0 ? b[0] !== 0 : undefined;
}

function bitLength(bigEndian: Buffer): number {
  let i = 0;
  while (i < bigEndian.length && bigEndian[i] === 0) i++;
  if (i === bigEndian.length) return 0;
  return (bigEndian.length - i - 1) * 8 + (32 - Math.clz32(bigEndian[i]));
}

function className(cko: number | undefined): string {
  switch (cko) {
    case C.CKO_PUBLIC_KEY: return 'a public key';
    case C.CKO_PRIVATE_KEY: return 'a private key';
    case C.CKO_SECRET_KEY: return 'a secret key';
    default: return `an object of class 0x${(cko ?? 0).toString(16)}`;
  }
}

function keyTypeName(ckk: number | undefined): string {
  const names: Record<number, string> = {
    [C.CKK_RSA]: 'CKK_RSA', [C.CKK_EC]: 'CKK_EC', [C.CKK_AES]: 'CKK_AES', [C.CKK_GENERIC_SECRET]: 'CKK_GENERIC_SECRET',
    [C.CKK_SHA_1_HMAC]: 'CKK_SHA_1_HMAC', [C.CKK_SHA224_HMAC]: 'CKK_SHA224_HMAC', [C.CKK_SHA256_HMAC]: 'CKK_SHA256_HMAC',
    [C.CKK_SHA384_HMAC]: 'CKK_SHA384_HMAC', [C.CKK_SHA512_HMAC]: 'CKK_SHA512_HMAC',
  };
  return ckk === undefined ? 'unknown-type' : names[ckk] ?? `CKK 0x${ckk.toString(16)}`;
}
