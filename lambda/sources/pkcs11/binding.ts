import type * as Koffi from 'koffi';
import type * as Pkcs11js from 'pkcs11js';
import { ErrorCodes } from '../../../lib/private/contract';
import { ImportError } from '../../errors';
import { CKR } from './constants';

/**
 * Loading the PKCS#11 module. The native bindings are required lazily, on the first PKCS#11
 * import, so that the handler bundle loads (and the Secrets Manager source works) even where
 * they are absent; see docs/decisions/0005-pkcs11-binding.md.
 *
 * - pkcs11js (Node-API addon, built at library build time, copied beside the bundle) makes
 *   every call but one.
 * - koffi (FFI with prebuilt binaries, shipped in the asset's node_modules) makes the one call
 *   pkcs11js cannot express: C_WrapKey with CKM_RSA_AES_KEY_WRAP, whose CK_RSA_AES_KEY_WRAP_PARAMS
 *   holds a pointer to a CK_RSA_PKCS_OAEP_PARAMS. pkcs11js copies a Buffer parameter byte for byte,
 *   so that pointer cannot be written. koffi opens the same library file; dlopen returns the same
 *   handle, so the session and object handles pkcs11js got are valid for it.
 */

export type Handle = Buffer;
export type Template = Pkcs11js.Template;
export type Mechanism = Pkcs11js.Mechanism;

/** The part of pkcs11js's PKCS11 class the source uses (tests pass a fake with the same shape). */
export interface Pkcs11Api {
  C_GetSlotList(tokenPresent?: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string };
  C_GetMechanismList(slot: Handle): number[];
  C_GetMechanismInfo(slot: Handle, mech: number): { flags: number };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_Login(session: Handle, userType: number, pin?: string): void;
  C_Logout(session: Handle): void;
  C_FindObjectsInit(session: Handle, template: Template): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_GetAttributeValue(session: Handle, object: Handle, template: Template): { type: number; value?: Buffer }[];
  C_CreateObject(session: Handle, template: Template): Handle;
  C_DestroyObject(session: Handle, object: Handle): void;
  C_GenerateKey(session: Handle, mechanism: Mechanism, template: Template): Handle;
  C_WrapKey(session: Handle, mechanism: Mechanism, wrappingKey: Handle, key: Handle, wrappedKey: Buffer): Buffer;
}

/** CK_RSA_AES_KEY_WRAP_PARAMS with its CK_RSA_PKCS_OAEP_PARAMS (always an empty label). */
export interface RsaAesKeyWrapParams {
  readonly aesKeyBits: number;
  readonly hashAlg: number;
  readonly mgf: number;
}

/** C_WrapKey with CKM_RSA_AES_KEY_WRAP; returns the wrapped bytes or throws a Pkcs11Failure. */
export type RsaAesKeyWrapCall = (session: Handle, params: RsaAesKeyWrapParams, wrappingKey: Handle, key: Handle, maxLength: number) => Buffer;

export interface LoadedModule {
  readonly api: Pkcs11Api;
  /** Undefined when koffi is not in the handler asset: the source then composes RSA-AES in the HSM. */
  readonly rsaAesKeyWrap?: RsaAesKeyWrapCall;
}

/** A PKCS#11 call that returned something other than CKR_OK. */
export class Pkcs11Failure extends Error {
  constructor(public readonly code: number, public readonly fn: string) {
    super(`${fn} returned 0x${code.toString(16)}`);
    this.name = 'Pkcs11Failure';
  }
}

/** The CKR_* code of an error thrown by pkcs11js or by the koffi call, if it is one. */
export function ckrOf(e: unknown): number | undefined {
  if (e instanceof Pkcs11Failure) return e.code;
  const err = e as { name?: string; code?: unknown };
  return err?.name === 'Pkcs11Error' && typeof err.code === 'number' ? err.code : undefined;
}

/** Loads (once per module path and process) and initialises a PKCS#11 module. */
export type ModuleLoader = (modulePath: string) => LoadedModule;

const loaded = new Map<string, LoadedModule>();

/**
 * The production loader. The module stays loaded and initialised across warm invocations (loading
 * and C_Initialize cost ~10 ms on SoftHSM, seconds on some network HSM clients); sessions do not.
 */
export const loadModule: ModuleLoader = (modulePath) => {
  const cached = loaded.get(modulePath);
  if (cached) return cached;
  const pkcs11js = requirePkcs11js();
  const api = new pkcs11js.PKCS11();
  try {
    api.load(modulePath);
  } catch (e) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `the PKCS#11 module '${modulePath}' could not be loaded (${(e as Error).message}); put the HSM vendor's PKCS#11 library in a Lambda layer (moduleLayer) and set modulePath to its path under /opt`);
  }
  try {
    api.C_Initialize();
  } catch (e) {
    // Another PKCS11 instance in this process (a test, say) may have initialised the library.
    if (ckrOf(e) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw e;
  }
  const module: LoadedModule = { api, rsaAesKeyWrap: koffiRsaAesKeyWrap(modulePath) };
  loaded.set(modulePath, module);
  return module;
};

function requirePkcs11js(): typeof Pkcs11js {
  try {
    // A lazy require: esbuild bundles pkcs11js's JavaScript and copies its pkcs11.node beside the
    // bundle, but nothing loads it until a PKCS#11 import runs.
    return require('pkcs11js') as typeof Pkcs11js;
  } catch (e) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `the PKCS#11 binding (pkcs11js) is not available in this handler (${(e as Error).message.split('\n')[0]}); the library was built without it, see docs/hsm.md`);
  }
}

/**
 * Binds C_WrapKey of the same library through koffi, typed for CKM_RSA_AES_KEY_WRAP. Returns
 * undefined when koffi or the exported C_WrapKey symbol is missing; every PKCS#11 library for
 * Unix exports its C_* functions, but only C_GetFunctionList is required by the standard.
 */
function koffiRsaAesKeyWrap(modulePath: string): RsaAesKeyWrapCall | undefined {
  let koffi: typeof Koffi;
  try {
    koffi = require('koffi') as typeof Koffi;
  } catch {
    return undefined;
  }
  try {
    const lib = koffi.load(modulePath);
    // CK_ULONG is `unsigned long` (64-bit on Linux x86_64/arm64); the structs use natural
    // alignment, as PKCS#11 prescribes for Unix (pkcs11.h packs them only on Windows).
    const oaep = koffi.struct({ hashAlg: 'unsigned long', mgf: 'unsigned long', source: 'unsigned long', pSourceData: 'void *', ulSourceDataLen: 'unsigned long' });
    const params = koffi.struct({ ulAESKeyBits: 'unsigned long', pOAEPParams: koffi.pointer(oaep) });
    const mechanism = koffi.struct({ mechanism: 'unsigned long', pParameter: koffi.pointer(params), ulParameterLen: 'unsigned long' });
    const wrapKey = lib.func('C_WrapKey', 'unsigned long', ['unsigned long', koffi.pointer(mechanism), 'unsigned long', 'unsigned long', koffi.out('uint8_t *'), koffi.inout(koffi.pointer('unsigned long'))]);
    return (session, p, wrappingKey, key, maxLength) => {
      const out = Buffer.alloc(maxLength);
      const length = [maxLength];
      const rv = Number(wrapKey(
        ulong(session),
        {
          mechanism: 0x1054, // CKM_RSA_AES_KEY_WRAP
          pParameter: { ulAESKeyBits: p.aesKeyBits, pOAEPParams: { hashAlg: p.hashAlg, mgf: p.mgf, source: 1, pSourceData: null, ulSourceDataLen: 0 } },
          ulParameterLen: koffi.sizeof(params),
        },
        ulong(wrappingKey), ulong(key), out, length,
      ));
      if (rv !== CKR.OK) throw new Pkcs11Failure(rv, 'C_WrapKey');
      return out.subarray(0, Number(length[0]));
    };
  } catch {
    return undefined;
  }
}

/** A pkcs11js handle (CK_ULONG bytes, host order) as the integer koffi passes. */
export function ulong(handle: Handle): number | bigint {
  if (handle.length === 4) return handle.readUInt32LE(0);
  const value = handle.readBigUInt64LE(0);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
