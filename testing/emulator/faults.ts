/**
 * Fault injection, so callers can be tested against the failures a real endpoint produces:
 * throttling (400 ThrottlingException, which the SDKs retry), 500 KMSInternalException,
 * a reset connection, a slow answer, and a lost answer to a request that *was* applied
 * (the case that makes retries non-idempotent, e.g. a spent import token).
 */
export interface FaultRule {
  /** The operation name, e.g. 'ImportKeyMaterial'. Undefined matches every operation. */
  operation?: string;
  /**
   * - `throttle`: 400 ThrottlingException, the operation is not applied.
   * - `internal`: 500 KMSInternalException, the operation is not applied.
   * - `reset`: the socket is destroyed without a response; the operation is not applied.
   * - `delay`: the response is held back by `delayMs`, then the operation runs normally.
   * - `lose-response`: the operation is applied, then the socket is destroyed.
   */
  kind: 'throttle' | 'internal' | 'reset' | 'delay' | 'lose-response';
  /** How many matching requests the rule hits before it is used up. @default 1 */
  times?: number;
  /** For `delay`. @default 1000 */
  delayMs?: number;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule: { ...rule }, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first live rule matching `operation`, which is used up by one. */
  take(operation: string): FaultRule | undefined {
    const active = this.rules.find((r) => r.remaining > 0 && (r.rule.operation === undefined || r.rule.operation === operation));
    if (!active) return undefined;
    active.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return active.rule;
  }
}
