import { createHash } from 'crypto';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';

/** When a key's renewal rule fires, and how old its material must be for the handler to renew it. */
export interface RenewalPlan {
  readonly schedule: events.Schedule;
  /** The handler renews only material imported at least this long ago; undefined: on every event. */
  readonly renewAfterSeconds?: number;
}

const HOUR = 3600;
const DAY = 86400;

/**
 * Spreads renewals so that a stack's keys do not all ask for GetParametersForImport in the same
 * minute: KMS allows one every 4 seconds per account and Region (AWS KMS Developer Guide,
 * "Request quotas"), and rules made with `rate(...)` all start counting when the deployment
 * created them, so N keys with the same `renewEvery` would fire together for ever.
 *
 * Instead each key's rule fires once a day (hourly when `renewEvery` is under a day) at a minute
 * of its own: the stack's minute (from a hash of its path) plus the key's slot. The handler then
 * renews the material only when it is at least `renewEvery` minus that check period old, so the
 * material is never older than `renewEvery` when renewed, as before. A daily check gives up to
 * 1,440 distinct minutes per stack, an hourly one 60. Periods under an hour keep `rate(...)`.
 */
export function renewalPlan(renewEvery: Duration, slot: number, stackPath: string): RenewalPlan {
  const seconds = renewEvery.toSeconds();
  const period = seconds >= DAY ? DAY : seconds >= HOUR ? HOUR : undefined;
  if (period === undefined) return { schedule: events.Schedule.rate(renewEvery) };
  const base = createHash('sha256').update(stackPath).digest().readUInt32BE(0);
  const minutes = period / 60;
  const minute = (base + slot) % minutes;
  const schedule = period === DAY
    ? events.Schedule.cron({ minute: String(minute % 60), hour: String(Math.floor(minute / 60)) })
    : events.Schedule.cron({ minute: String(minute) });
  return { schedule, renewAfterSeconds: seconds - period };
}
