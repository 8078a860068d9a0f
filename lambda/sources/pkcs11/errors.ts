import { ErrorCodes } from '../../../lib/private/contract';
import { ImportError } from '../../errors';
import { ckrOf } from './binding';
import { ckrName } from './constants';

/**
 * Turns what a PKCS#11 call threw into an ImportError: `message` says what was being done to
 * which key on which token; the HSM's return value, by name, goes where `message` says `{ckr}`,
 * else at the end. ImportErrors pass through. pkcs11js messages carry only the CKR name and the
 * function, never attribute values, so nothing secret can reach CloudFormation through here.
 */
export function hsmError(e: unknown, code: string, message: string): ImportError {
  if (e instanceof ImportError) return e;
  const ckr = ckrOf(e);
  const returned = ckr !== undefined ? ckrName(ckr) : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
  return new ImportError(code, message.includes('{ckr}') ? message.replace('{ckr}', returned) : `${message}: the HSM answered ${returned}`);
}

/** A better code and message for a return value, where one is known. */
export type Explain = (ckr: number | undefined) => { code: string; message: string } | undefined;

/** Maps what a PKCS#11 step threw: `explain` may say more for some CKR values, else `what` failed. */
export function mapFailure(e: unknown, what: string, explain?: Explain): ImportError {
  if (e instanceof ImportError) return e;
  const better = explain?.(ckrOf(e));
  return better ? hsmError(e, better.code, better.message) : hsmError(e, ErrorCodes.MATERIAL_SOURCE, what);
}

/** Runs one PKCS#11 step, mapping a failure with {@link mapFailure}. */
export function step<T>(what: string, fn: () => T, explain?: Explain): T {
  try {
    return fn();
  } catch (e) {
    throw mapFailure(e, what, explain);
  }
}
