/**
 * Fresh RSA wrapping key pairs for GetParametersForImport. AWS returns a new key pair with every
 * call (GetParametersForImport API reference); generating RSA_4096 takes about a second of CPU, so a few pairs per size
 * are generated ahead in the background (libuv thread pool) and each is handed out exactly once.
 */
import * as crypto from 'crypto';
import { promisify } from 'util';

const generateKeyPair = promisify(crypto.generateKeyPair);

export type RsaWrappingKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export interface WrappingKeyPair {
  privateKey: crypto.KeyObject;
  /** DER SubjectPublicKeyInfo, what GetParametersForImport returns as PublicKey. */
  publicKeyDer: Buffer;
}

const BITS: Record<RsaWrappingKeySpec, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/** Spare pairs kept per size. RSA_2048 is warmed at start; the others once first asked for. */
export const DEFAULT_POOL_SIZES: Record<RsaWrappingKeySpec, number> = { RSA_2048: 3, RSA_3072: 2, RSA_4096: 1 };

export class WrappingKeyPool {
  /** Per size, pairs generated or being generated, oldest first; each is handed out once. */
  private readonly spare = new Map<RsaWrappingKeySpec, Array<Promise<WrappingKeyPair>>>();
  /** Sizes with a background generation under way. */
  private readonly refilling = new Set<RsaWrappingKeySpec>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly sizes: Record<RsaWrappingKeySpec, number>) {}

  /** Starts filling the pool for `spec` in the background. */
  warm(spec: RsaWrappingKeySpec): void {
    this.refill(spec);
  }

  /** A key pair never handed out before: a spare one (possibly still being generated) or a new one. */
  take(spec: RsaWrappingKeySpec): Promise<WrappingKeyPair> {
    const pair = this.queue(spec).shift() ?? this.generate(spec);
    this.refill(spec);
    return pair;
  }

  /** Stops refilling and waits for generations under way, so no work outlives the emulator. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.spare.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private queue(spec: RsaWrappingKeySpec): Array<Promise<WrappingKeyPair>> {
    let q = this.spare.get(spec);
    if (!q) {
      q = [];
      this.spare.set(spec, q);
    }
    return q;
  }

  private refill(spec: RsaWrappingKeySpec): void {
    const q = this.queue(spec);
    // One generation at a time per size: the thread pool stays free for the requests themselves.
    if (this.stopped || q.length >= this.sizes[spec] || this.refilling.has(spec)) return;
    this.refilling.add(spec);
    const next = this.generate(spec);
    q.push(next);
    void next
      .catch(() => {
        // A failed background generation is dropped; take() then generates on demand.
        const i = q.indexOf(next);
        if (i >= 0) q.splice(i, 1);
      })
      .finally(() => {
        this.refilling.delete(spec);
        this.refill(spec);
      });
  }

  private generate(spec: RsaWrappingKeySpec): Promise<WrappingKeyPair> {
    const p = generateKeyPair('rsa', { modulusLength: BITS[spec], publicExponent: 65537 }).then(({ publicKey, privateKey }) => ({
      privateKey,
      publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
    }));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }
}
