import { ErrorCodes, Pkcs11SourceProperties } from '../../lib/private/contract';
import { ImportError } from '../errors';
import { ckrOf, Handle, loadModule, ModuleLoader, Pkcs11Api } from './pkcs11/binding';
import * as C from './pkcs11/constants';
import { Explain, mapFailure, step } from './pkcs11/errors';
import { readPin } from './pkcs11/pin';
import { findTargetKey, keyName } from './pkcs11/target-key';
import { wrapInHsm } from './pkcs11/wrapping';
import type { PreparedSource, SourceContext } from './source';

/**
 * The PKCS#11 source: the key stays in an HSM, which wraps it under the KMS wrapping public key
 * itself, so the key material never exists in plaintext outside the HSM.
 * - prepare (in parallel with GetParametersForImport): read the PIN, load the module (cached),
 *   find the token by label, open a session, log in, find and check the key;
 * - wrap: import the KMS public key as a session object, C_WrapKey (see pkcs11/wrapping.ts);
 * - close (always): destroy the session objects, log out, close the session.
 */

/** What the source needs from outside; tests replace the module loader and the PIN reader. */
export interface Pkcs11Dependencies {
  readonly loadModule: ModuleLoader;
  readonly readPin: (source: Pkcs11SourceProperties) => Promise<string>;
}

const DEFAULT_DEPENDENCIES: Pkcs11Dependencies = { loadModule, readPin };

export async function preparePkcs11Source(source: Pkcs11SourceProperties, ctx: SourceContext, deps: Pkcs11Dependencies = DEFAULT_DEPENDENCIES): Promise<PreparedSource> {
  checkProperties(source);
  // The PIN request is in flight while the (synchronous) module load and slot lookup run.
  const pinRead = deps.readPin(source);
  let module;
  let slot: Handle;
  try {
    module = deps.loadModule(source.ModulePath);
    slot = findSlot(module.api, source);
  } catch (e) {
    pinRead.catch(() => undefined);
    throw e;
  }
  const pin = await pinRead;
  const api = module.api;
  const session = openSession(api, slot, source);
  const objects = new Set<Handle>();
  let loggedIn = false;
  let closed = false;

  const destroy = (object: Handle) => {
    objects.delete(object);
    try {
      api.C_DestroyObject(session, object);
    } catch {
      // Session objects disappear with the session anyway (PKCS#11 §4.4: CKA_TOKEN=false).
    }
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const object of [...objects]) destroy(object);
    // Each step on its own: a failed logout must not keep the session open.
    if (loggedIn) ignore(() => api.C_Logout(session));
    ignore(() => api.C_CloseSession(session));
  };

  try {
    // Log out at close only if this source logged in: the login state is per token and process.
    loggedIn = login(api, session, pin, source);
    const target = findTargetKey(api, session, source, ctx.keySpec, ctx.partition);
    const mechanisms = new Set(step(`listing the mechanisms of token '${source.TokenLabel}'`, () => api.C_GetMechanismList(slot)));
    const canWrap = (mechanism: number) => {
      if (!mechanisms.has(mechanism)) return false;
      try {
        return (api.C_GetMechanismInfo(slot, mechanism).flags & C.CKF_WRAP) !== 0;
      } catch {
        return false;
      }
    };
    return {
      wrap(publicKeyDer, wrappingAlgorithm) {
        if (closed) throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `the HSM session for ${target.name} is already closed`);
        return wrapInHsm({
          module, session, canWrap,
          track: (object) => { objects.add(object); return object; },
          destroy,
        }, target, publicKeyDer, wrappingAlgorithm);
      },
      close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** A short name of the source for messages. */
export function describePkcs11Source(source: Pkcs11SourceProperties): string {
  return `HSM ${keyName(source)}`;
}

function checkProperties(source: Pkcs11SourceProperties): void {
  for (const name of ['ModulePath', 'TokenLabel', 'PinSecretArn'] as const) {
    if (typeof source[name] !== 'string' || source[name].length === 0) {
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `property Material.${name} is missing`);
    }
  }
  if (source.KeyLabel === undefined && source.KeyId === undefined) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, 'property Material has neither KeyLabel nor KeyId: name the HSM key to import');
  }
  if (source.KeyId !== undefined && !/^([0-9a-fA-F]{2})+$/.test(source.KeyId)) {
    throw new ImportError(ErrorCodes.INVALID_PROPERTY, `property Material.KeyId '${source.KeyId}' is not hexadecimal (CKA_ID bytes, e.g. '01a2')`);
  }
}

/** Tokens are found by label: slot ids are not stable (SoftHSM picks a random one per token). */
function findSlot(api: Pkcs11Api, source: Pkcs11SourceProperties): Handle {
  const slots = step(`listing the slots of PKCS#11 module '${source.ModulePath}'`, () => api.C_GetSlotList(true));
  const labels: string[] = [];
  const matching: Handle[] = [];
  for (const slot of slots) {
    // CK_TOKEN_INFO.label is padded with blanks to 32 bytes.
    const label = step('reading token information (C_GetTokenInfo)', () => api.C_GetTokenInfo(slot)).label.replace(/[\s\0]+$/, '');
    labels.push(`'${label}'`);
    if (label === source.TokenLabel) matching.push(slot);
  }
  if (matching.length === 0) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `no token labelled '${source.TokenLabel}' in PKCS#11 module '${source.ModulePath}' (tokens: ${labels.length ? labels.join(', ') : 'none'}); check tokenLabel, and that the handler reaches the HSM (VPC, security groups, client configuration)`);
  }
  if (matching.length > 1) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${matching.length} tokens are labelled '${source.TokenLabel}' in PKCS#11 module '${source.ModulePath}'; give the token a unique label`);
  }
  return matching[0];
}

function openSession(api: Pkcs11Api, slot: Handle, source: Pkcs11SourceProperties): Handle {
  const what = `opening a session on token '${source.TokenLabel}' (C_OpenSession)`;
  try {
    // Read/write so the session objects can be created on every HSM; PKCS#11 lets a read-only
    // session create session objects too, which is the fallback for a write-protected token.
    return api.C_OpenSession(slot, C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION);
  } catch (e) {
    if (ckrOf(e) !== C.CKR.TOKEN_WRITE_PROTECTED) throw mapFailure(e, what);
    return step(what, () => api.C_OpenSession(slot, C.CKF_SERIAL_SESSION));
  }
}

/** Logs in as the token's user; false when the process was logged in already. */
function login(api: Pkcs11Api, session: Handle, pin: string, source: Pkcs11SourceProperties): boolean {
  const secret = `the PIN in secret ${source.PinSecretArn}`;
  const explain: Explain = (ckr) => {
    switch (ckr) {
      case C.CKR.PIN_INCORRECT:
      case C.CKR.PIN_INVALID:
      case C.CKR.PIN_LEN_RANGE:
        return { code: ErrorCodes.ACCESS_DENIED, message: `token '${source.TokenLabel}' refused ${secret}; store the user PIN of that token there (for CloudHSM: '<crypto user>:<password>')` };
      case C.CKR.PIN_LOCKED:
      case C.CKR.PIN_EXPIRED:
      case C.CKR.USER_PIN_NOT_INITIALIZED:
        return { code: ErrorCodes.ACCESS_DENIED, message: `the user PIN of token '${source.TokenLabel}' cannot be used; the token's security officer must reset or initialise it` };
      default:
        return undefined;
    }
  };
  try {
    api.C_Login(session, C.CKU_USER, pin);
    return true;
  } catch (e) {
    // The login state is per token and process, shared by all its sessions.
    if (ckrOf(e) === C.CKR.USER_ALREADY_LOGGED_IN) return false;
    throw mapFailure(e, `logging in to token '${source.TokenLabel}' with ${secret} (C_Login)`, explain);
  }
}

function ignore(fn: () => void): void {
  try {
    fn();
  } catch {
    // Cleanup: the import's own outcome matters more than a failed logout or close.
  }
}
