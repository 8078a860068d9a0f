/**
 * Fresh RSA wrapping key pairs for GetParametersForImport. AWS returns a new key pair with every
 * call (spec §3 step 6); generating RSA_4096 takes about a second of CPU, so a few pairs per size
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
  private readonly spare = new Map<RsaWrappingKeySpec, WrappingKeyPair[]>();
  private readonly refilling = new Set<RsaWrappingKeySpec>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly sizes: Record<RsaWrappingKeySpec, number>) {}

  /** Starts filling the pool for `spec` in the background. */
  warm(spec: RsaWrappingKeySpec): void {
    void this.refill(spec);
  }

  /** A key pair never handed out before. */
  async take(spec: RsaWrappingKeySpec): Promise<WrappingKeyPair> {
    const pair = this.spare.get(spec)?.shift();
    void this.refill(spec);
    return pair ?? this.generate(spec);
  }

  /** Stops refilling and waits for generations under way, so no work outlives the emulator. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inFlight]);
    this.spare.clear();
  }

  private async refill(spec: RsaWrappingKeySpec): Promise<void> {
    if (this.refilling.has(spec)) return;
    this.refilling.add(spec);
    try {
      const list = this.spare.get(spec) ?? [];
      this.spare.set(spec, list);
      while (!this.stopped && list.length < this.sizes[spec]) {
        const pair = await this.generate(spec);
        if (!this.stopped) list.push(pair);
      }
    } catch {
      // A failed background generation only means the next take() generates on demand.
    } finally {
      this.refilling.delete(spec);
    }
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
