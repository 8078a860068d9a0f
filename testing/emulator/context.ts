import type { RequestAuthorization } from './authorize';
import type { EmulatorState } from './state';
import type { Input } from './validation';
import type { WrappingKeyPool } from './wrapping-keys';

/** Emulator-wide behaviour switches, where AWS's documentation leaves the behaviour open. */
export interface EmulatorConfig {
  /**
   * Accept RSA_AES_KEY_WRAP_* for SYMMETRIC_DEFAULT and HMAC material. The API reference says
   * RSA_AES is for RSA and ECC material, but the AWS guide's OpenSSL example wraps symmetric and
   * HMAC material with it ("Encrypt the key material", AWS KMS Developer Guide), so the emulator
   * allows it unless told otherwise.
   */
  allowRsaAesForSymmetric: boolean;
  acceptZeroPaddedPkcs8: boolean;
}

/** What an operation handler sees of one request. */
export interface RequestContext {
  state: EmulatorState;
  account: string;
  region: string;
  /** The emulator clock, read once per request. */
  now: Date;
  config: EmulatorConfig;
  wrappingKeys: WrappingKeyPool;
  /** The caller and what it may do (authorize.ts); `resolveKey` checks every key it finds. */
  authz: RequestAuthorization;
}

/** Epoch seconds with millisecond precision, as AWS JSON 1.1 sends timestamps. */
export function epoch(d: Date): number {
  return d.getTime() / 1000;
}

/** One KMS operation: reads its input, applies it to the state, returns the response body. */
export type Handler = (ctx: RequestContext, input: Input) => Promise<Record<string, unknown>> | Record<string, unknown>;

/**
 * Marker-based paging as KMS lists do it (Limit 1–1000, default 100; NextMarker and Truncated).
 * The marker is the opaque position of the next item.
 */
export function paginate<T>(items: T[], limit: number | undefined, marker: string | undefined): { page: T[]; NextMarker?: string; Truncated: boolean } {
  const start = marker ? Number(Buffer.from(marker, 'base64').toString('utf8')) || 0 : 0;
  const end = start + (limit ?? 100);
  const page = items.slice(start, end);
  return end < items.length ? { page, NextMarker: Buffer.from(String(end)).toString('base64'), Truncated: true } : { page, Truncated: false };
}
