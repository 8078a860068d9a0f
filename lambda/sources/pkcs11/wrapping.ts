import { createPublicKey } from 'crypto';
import { ErrorCodes } from '../../../lib/private/contract';
import { ImportError } from '../../errors';
import { ckrOf, Handle, LoadedModule, Mechanism, RsaAesKeyWrapParams } from './binding';
import * as C from './constants';
import { Explain, mapFailure, step } from './errors';
import { TargetKey } from './target-key';

/**
 * The HSM wraps the target key under the KMS wrapping public key, in exactly the layouts KMS
 * unwraps (docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html;
 * the same layouts as lambda/wrap.ts, which does it in software):
 * - RSAES_OAEP_SHA_1/256: one C_WrapKey with CKM_RSA_PKCS_OAEP, MGF1 with the same hash, no label;
 * - RSA_AES_KEY_WRAP_SHA_1/256: CKM_RSA_AES_KEY_WRAP where the module offers it, else the same
 *   bytes composed from two C_WrapKey calls inside the HSM: a fresh AES-256 session key wraps the
 *   target with AES-KWP (RFC 5649), RSA-OAEP wraps that AES key, output = RSA part || KWP part.
 * The target key's value never leaves the HSM in plaintext, and nor does the AES key.
 */

/** The session-level operations the wrap needs; objects it creates are destroyed by the caller too. */
export interface WrapSession {
  readonly module: LoadedModule;
  readonly session: Handle;
  /** Mechanisms of the token's slot (C_GetMechanismList), and whether each can wrap. */
  readonly canWrap: (mechanism: number) => boolean;
  /** Creates a session object and remembers it for destruction. */
  readonly track: (object: Handle) => Handle;
  /** Destroys a tracked object now. */
  readonly destroy: (object: Handle) => void;
}

interface OaepHash {
  readonly name: 'SHA-1' | 'SHA-256';
  readonly hashAlg: number;
  readonly mgf: number;
}

const SHA1: OaepHash = { name: 'SHA-1', hashAlg: C.CKM_SHA_1, mgf: C.CKG_MGF1_SHA1 };
const SHA256: OaepHash = { name: 'SHA-256', hashAlg: C.CKM_SHA256, mgf: C.CKG_MGF1_SHA256 };

/** Longest RFC 5649 output we make room for: an RSA-4096 PKCS#8 is ~2.4 KB. */
const MAX_KWP_OUTPUT = 16 * 1024;

/** The CK_MECHANISM for RSA-OAEP with `hash` and MGF1 of the same hash, empty label (what KMS uses). */
export function oaepMechanism(hash: OaepHash): Mechanism {
  return {
    mechanism: C.CKM_RSA_PKCS_OAEP,
    parameter: { type: C.CK_PARAMS_RSA_OAEP, hashAlg: hash.hashAlg, mgf: hash.mgf, source: C.CKZ_DATA_SPECIFIED } as Mechanism['parameter'],
  };
}

export function wrapInHsm(s: WrapSession, target: TargetKey, publicKeyDer: Uint8Array, wrappingAlgorithm: string): Buffer {
  const hash = wrappingAlgorithm.endsWith('SHA_256') ? SHA256 : wrappingAlgorithm.endsWith('SHA_1') ? SHA1 : undefined;
  const rsaAes = wrappingAlgorithm.startsWith('RSA_AES_KEY_WRAP_');
  if (!hash || (!rsaAes && !wrappingAlgorithm.startsWith('RSAES_OAEP_'))) {
    throw new ImportError(ErrorCodes.WRAPPING_COMBINATION, `wrapping algorithm '${wrappingAlgorithm}' is not supported`);
  }
  const kms = importWrappingKey(s, publicKeyDer);
  try {
    if (!rsaAes) return wrapOaep(s, target, kms, hash, wrappingAlgorithm);
    if (s.module.rsaAesKeyWrap && s.canWrap(C.CKM_RSA_AES_KEY_WRAP)) {
      const native = wrapRsaAesNative(s, target, kms, hash, wrappingAlgorithm);
      if (native) return native;
    }
    return wrapRsaAesComposed(s, target, kms, hash, wrappingAlgorithm);
  } finally {
    s.destroy(kms.handle);
  }
}

interface WrappingKey {
  readonly handle: Handle;
  readonly bytes: number;
}

/** The KMS wrapping public key as a session object (CKA_TOKEN=false: gone when the session closes). */
function importWrappingKey(s: WrapSession, publicKeyDer: Uint8Array): WrappingKey {
  let jwk: { n?: string; e?: string };
  try {
    jwk = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch {
    throw new ImportError(ErrorCodes.AWS_ERROR, 'the wrapping public key from GetParametersForImport is not a DER SubjectPublicKeyInfo');
  }
  if (!jwk.n || !jwk.e) throw new ImportError(ErrorCodes.AWS_ERROR, 'the wrapping public key from GetParametersForImport is not an RSA key');
  const modulus = Buffer.from(jwk.n, 'base64url');
  const exponent = Buffer.from(jwk.e, 'base64url');
  const handle = step('importing the KMS wrapping public key into the HSM session (C_CreateObject)', () => s.track(s.module.api.C_CreateObject(s.session, [
    { type: C.CKA_CLASS, value: C.CKO_PUBLIC_KEY },
    { type: C.CKA_KEY_TYPE, value: C.CKK_RSA },
    { type: C.CKA_TOKEN, value: false },
    { type: C.CKA_WRAP, value: true },
    { type: C.CKA_ENCRYPT, value: false },
    { type: C.CKA_VERIFY, value: false },
    { type: C.CKA_LABEL, value: 'kms-wrapping-public-key' },
    { type: C.CKA_MODULUS, value: modulus },
    { type: C.CKA_PUBLIC_EXPONENT, value: exponent },
  ])));
  return { handle, bytes: modulus.length };
}

function wrapOaep(s: WrapSession, target: TargetKey, kms: WrappingKey, hash: OaepHash, wrappingAlgorithm: string): Buffer {
  // No capacity check needed: the longest material KMS takes with RSAES_OAEP_* (128-byte HMAC
  // keys) fits even RSA-2048 with SHA-256 (190 bytes); private keys are the HSM's to refuse.
  return step(`the HSM could not wrap ${target.name} with ${wrappingAlgorithm} (C_WrapKey CKM_RSA_PKCS_OAEP, ${hash.name})`,
    () => s.module.api.C_WrapKey(s.session, oaepMechanism(hash), kms.handle, target.handle, Buffer.alloc(kms.bytes)),
    explainOaep(target, hash, wrappingAlgorithm, 'RSAES_OAEP_SHA_1'));
}

/** Native CKM_RSA_AES_KEY_WRAP; undefined when the module turns out not to do it after all. */
function wrapRsaAesNative(s: WrapSession, target: TargetKey, kms: WrappingKey, hash: OaepHash, wrappingAlgorithm: string): Buffer | undefined {
  const params: RsaAesKeyWrapParams = { aesKeyBits: 256, hashAlg: hash.hashAlg, mgf: hash.mgf };
  try {
    return s.module.rsaAesKeyWrap!(s.session, params, kms.handle, target.handle, kms.bytes + MAX_KWP_OUTPUT);
  } catch (e) {
    const ckr = ckrOf(e);
    if (ckr === C.CKR.MECHANISM_INVALID || ckr === C.CKR.FUNCTION_NOT_SUPPORTED) return undefined;
    throw mapFailure(e, `the HSM could not wrap ${target.name} with ${wrappingAlgorithm} (C_WrapKey CKM_RSA_AES_KEY_WRAP, ${hash.name})`,
      explainOaep(target, hash, wrappingAlgorithm, 'RSA_AES_KEY_WRAP_SHA_1'));
  }
}

/**
 * RSA-AES composed from two HSM operations: a session AES-256 key generated in the HSM, the
 * target wrapped under it with RFC 5649, the AES key wrapped under the KMS key with RSA-OAEP.
 * Byte for byte what CKM_RSA_AES_KEY_WRAP (PKCS#11 v2.40 §2.1.21) produces.
 */
function wrapRsaAesComposed(s: WrapSession, target: TargetKey, kms: WrappingKey, hash: OaepHash, wrappingAlgorithm: string): Buffer {
  // v3.0's CKM_AES_KEY_WRAP_KWP is RFC 5649 by definition; v2.40's CKM_AES_KEY_WRAP_PAD is RFC 5649
  // on SoftHSM and CloudHSM, but other vendors read it as RFC 3394 + PKCS#7 (checked below).
  const kwp = s.canWrap(C.CKM_AES_KEY_WRAP_KWP) ? C.CKM_AES_KEY_WRAP_KWP : s.canWrap(C.CKM_AES_KEY_WRAP_PAD) ? C.CKM_AES_KEY_WRAP_PAD : undefined;
  if (kwp === undefined) {
    throw new ImportError(ErrorCodes.WRAPPING_COMBINATION, `this HSM offers neither CKM_RSA_AES_KEY_WRAP nor AES key wrap with padding (CKM_AES_KEY_WRAP_KWP / CKM_AES_KEY_WRAP_PAD) for wrapping, so it cannot produce ${wrappingAlgorithm}; for symmetric, HMAC and ECC keys use an RSAES_OAEP_* wrappingAlgorithm`);
  }
  const kwpName = kwp === C.CKM_AES_KEY_WRAP_KWP ? 'CKM_AES_KEY_WRAP_KWP' : 'CKM_AES_KEY_WRAP_PAD';
  const aes = step('generating the one-time AES-256 key in the HSM (C_GenerateKey CKM_AES_KEY_GEN)', () => s.track(s.module.api.C_GenerateKey(s.session, { mechanism: C.CKM_AES_KEY_GEN }, [
    { type: C.CKA_CLASS, value: C.CKO_SECRET_KEY },
    { type: C.CKA_KEY_TYPE, value: C.CKK_AES },
    { type: C.CKA_VALUE_LEN, value: 32 },
    { type: C.CKA_TOKEN, value: false },
    { type: C.CKA_SENSITIVE, value: true },
    // Extractable only so that RSA-OAEP may wrap it for KMS; it is destroyed right after.
    { type: C.CKA_EXTRACTABLE, value: true },
    { type: C.CKA_WRAP, value: true },
    { type: C.CKA_UNWRAP, value: false },
    { type: C.CKA_ENCRYPT, value: false },
    { type: C.CKA_DECRYPT, value: false },
    { type: C.CKA_LABEL, value: 'kms-import-one-time-aes' },
  ])));
  try {
    const wrappedKey = step(`the HSM could not wrap ${target.name} under the one-time AES key (C_WrapKey ${kwpName})`,
      () => s.module.api.C_WrapKey(s.session, { mechanism: kwp }, aes, target.handle, Buffer.alloc(MAX_KWP_OUTPUT)));
    checkKwpLength(wrappedKey, target, kwpName);
    const wrappedAes = step(`the HSM could not wrap the one-time AES key with ${wrappingAlgorithm} (C_WrapKey CKM_RSA_PKCS_OAEP, ${hash.name})`,
      () => s.module.api.C_WrapKey(s.session, oaepMechanism(hash), kms.handle, aes, Buffer.alloc(kms.bytes)),
      explainOaep(target, hash, wrappingAlgorithm, 'RSA_AES_KEY_WRAP_SHA_1'));
    return Buffer.concat([wrappedAes, wrappedKey]);
  } finally {
    s.destroy(aes);
  }
}

/**
 * RFC 5649 output is 8 bytes longer than the input rounded up to 8. A module whose
 * CKM_AES_KEY_WRAP_PAD is RFC 3394 + PKCS#7 adds a whole block for a 32-byte key, which KMS
 * would reject: catch it here, where the message can say why.
 */
function checkKwpLength(wrapped: Buffer, target: TargetKey, kwpName: string): void {
  const ok = target.valueLength !== undefined
    ? wrapped.length === 8 + Math.ceil(target.valueLength / 8) * 8
    : wrapped.length >= 16 && wrapped.length % 8 === 0;
  if (!ok) {
    throw new ImportError(ErrorCodes.WRAPPING_COMBINATION, `this HSM's ${kwpName} is not RFC 5649 AES key wrap with padding (it made ${wrapped.length} bytes from ${target.valueLength !== undefined ? `a ${target.valueLength}-byte key` : 'the key'}), which KMS needs for RSA_AES_KEY_WRAP_*; use an RSAES_OAEP_* wrappingAlgorithm or ask the HSM vendor for CKM_RSA_AES_KEY_WRAP`);
  }
}

/** What the usual refusals mean for the user, with the setting that fixes them. */
function explainOaep(target: TargetKey, hash: OaepHash, wrappingAlgorithm: string, sha1Alternative: string): Explain {
  return (ckr) => {
    if (hash === SHA256 && (ckr === C.CKR.ARGUMENTS_BAD || ckr === C.CKR.MECHANISM_PARAM_INVALID)) {
      // SoftHSM (every version) accepts only SHA-1 / MGF1-SHA-1 in CK_RSA_PKCS_OAEP_PARAMS.
      const kind = wrappingAlgorithm.startsWith('RSAES') ? 'OAEP wrapping' : 'RSA-AES wrapping';
      return { code: ErrorCodes.WRAPPING_COMBINATION, message: `${wrappingAlgorithm} failed for ${target.name}: the HSM answered {ckr} to RSA-OAEP with SHA-256. This HSM supports only ${sha1Alternative} for ${kind}; set wrappingAlgorithm: WrappingAlgorithm.${sha1Alternative}` };
    }
    if (ckr === C.CKR.KEY_NOT_WRAPPABLE && wrappingAlgorithm.startsWith('RSAES') && target.kind !== 'SYMMETRIC' && target.kind !== 'HMAC') {
      return { code: ErrorCodes.WRAPPING_COMBINATION, message: `the HSM will not wrap ${target.name}, a private key, with RSA-OAEP directly: the HSM answered {ckr}; set wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1 (or _SHA_256)` };
    }
    if (ckr === C.CKR.KEY_UNEXTRACTABLE) {
      return { code: ErrorCodes.MATERIAL_SOURCE, message: `${target.name} is not extractable (CKA_EXTRACTABLE=false), so the HSM will not wrap it` };
    }
    if (ckr === C.CKR.KEY_NOT_WRAPPABLE) {
      return { code: ErrorCodes.MATERIAL_SOURCE, message: `the HSM will not wrap ${target.name} with ${wrappingAlgorithm}; if the key has CKA_WRAP_WITH_TRUSTED=true it can only be wrapped by a trusted key, which the KMS wrapping key cannot be` };
    }
    if (ckr === C.CKR.MECHANISM_INVALID) {
      return { code: ErrorCodes.WRAPPING_COMBINATION, message: `this HSM does not offer RSA-OAEP (CKM_RSA_PKCS_OAEP) for C_WrapKey, so it cannot produce ${wrappingAlgorithm}` };
    }
    return undefined;
  };
}
