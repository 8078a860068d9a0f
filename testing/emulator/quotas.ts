/**
 * KMS request quotas: one token bucket per account, Region and operation (or shared group), as
 * described in the AWS KMS Developer Guide, "Request quotas"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html):
 * - each quota is calculated independently per account and Region; a throttled request is not
 *   applied and is answered with 400 ThrottlingException;
 * - cross-account requests count against the caller's account, not the key owner's ("Cross-account
 *   requests"), which is the account the emulator identifies from the access key id;
 * - cryptographic operations share one quota ("Shared quotas for cryptographic operations").
 * Every quota is adjustable in Service Quotas: `setQuota` plays a granted increase.
 *
 * Time is the emulator clock's, so a test that moves the clock forward also refills the buckets.
 */

/** The name of the cryptographic operations' shared quota in `DEFAULT_REQUEST_QUOTAS` and `setQuota`. */
export const CRYPTO_QUOTA = 'CryptographicOperations';

/**
 * Default requests per second, from the table "Request quotas for each AWS KMS API operation".
 * GetParametersForImport is 0.25 (one in each 4-second interval) in both the archived and the
 * current page; the other values are the archived table's (awsdocs/aws-kms-developer-guide,
 * doc_source/requests-per-second.md), which AWS has since raised for some operations: they
 * are lower bounds, never the bottleneck of an import. Operations the table does not list
 * (ReplicateKey, RotateKeyOnDemand, ListKeyRotations, ...) are not throttled.
 */
export const DEFAULT_REQUEST_QUOTAS: Readonly<Record<string, number>> = {
  CancelKeyDeletion: 5,
  CreateAlias: 5,
  CreateKey: 5,
  DeleteAlias: 5,
  DeleteImportedKeyMaterial: 5,
  DescribeKey: 100,
  DisableKey: 5,
  DisableKeyRotation: 5,
  EnableKey: 5,
  EnableKeyRotation: 5,
  GetKeyPolicy: 30,
  GetKeyRotationStatus: 30,
  GetParametersForImport: 0.25,
  GetPublicKey: 5,
  ImportKeyMaterial: 5,
  ListAliases: 100,
  ListKeyPolicies: 100,
  ListKeys: 100,
  ListResourceTags: 100,
  PutKeyPolicy: 5,
  ScheduleKeyDeletion: 5,
  TagResource: 5,
  UntagResource: 5,
  UpdateAlias: 5,
  UpdateKeyDescription: 5,
  // One shared quota; KMS splits it further by key type (symmetric 5,500 to 100,000 by Region,
  // RSA 500, ECC 300): the smallest symmetric value stands for all of them here.
  [CRYPTO_QUOTA]: 5500,
};

const CRYPTOGRAPHIC_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GenerateRandom',
  'ReEncrypt', 'Sign', 'Verify', 'VerifyMac',
]);

/** How the emulator throttles. */
export interface QuotaOptions {
  /** Throttle at all. @default true */
  readonly enabled?: boolean;
  /**
   * Multiplies every default quota, e.g. 100 for a CI run that keeps the proportions of AWS's
   * quotas but not their wall-clock cost. @default 1
   */
  readonly scale?: number;
  /** Requests per second by operation (or `CRYPTO_QUOTA`), replacing the scaled default in every account and Region. @default - none */
  readonly requestsPerSecond?: Record<string, number>;
}

interface Bucket {
  tokens: number;
  /** Emulator-clock milliseconds of the last refill. */
  at: number;
}

/** The token buckets of one emulator. */
export class RequestQuotas {
  private enabled: boolean;
  private readonly rates = new Map<string, number>();
  /** `account/region/quota` → rate: granted increases. */
  private readonly increases = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: QuotaOptions = {}) {
    this.enabled = options.enabled ?? true;
    const scale = options.scale ?? 1;
    if (!(scale > 0)) throw new Error(`quota scale must be positive, got ${scale}`);
    for (const [quota, rate] of Object.entries(DEFAULT_REQUEST_QUOTAS)) this.rates.set(quota, rate * scale);
    for (const [quota, rate] of Object.entries(options.requestsPerSecond ?? {})) this.rates.set(quota, positive(rate, quota));
  }

  /** Whether requests are throttled. */
  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Turns throttling on or off; the buckets start full again. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.buckets.clear();
  }

  /**
   * A quota increase, as Service Quotas grants it: `requestsPerSecond` for `operation` (or
   * `CRYPTO_QUOTA`) in one account and Region, or in all of them when those are omitted.
   */
  setQuota(operation: string, requestsPerSecond: number, where: { account?: string; region?: string } = {}): void {
    const rate = positive(requestsPerSecond, operation);
    const quota = quotaOf(operation);
    if (where.account === undefined && where.region === undefined) this.rates.set(quota, rate);
    else this.increases.set(`${where.account ?? '*'}/${where.region ?? '*'}/${quota}`, rate);
    for (const key of [...this.buckets.keys()]) if (key.endsWith(`/${quota}`)) this.buckets.delete(key);
  }

  /** Requests per second allowed for `operation` in an account and Region; undefined: not throttled. */
  quota(operation: string, account: string, region: string): number | undefined {
    const quota = quotaOf(operation);
    return this.increases.get(`${account}/${region}/${quota}`)
      ?? this.increases.get(`${account}/*/${quota}`)
      ?? this.increases.get(`*/${region}/${quota}`)
      ?? this.rates.get(quota);
  }

  /**
   * Takes a token for one request made at `nowMs` (emulator clock); false when the request is
   * over the quota. A bucket holds one second's worth of requests, at least one, so a quota
   * below 1 per second (GetParametersForImport) allows exactly one request per interval.
   */
  take(operation: string, account: string, region: string, nowMs: number): boolean {
    if (!this.enabled) return true;
    const rate = this.quota(operation, account, region);
    if (rate === undefined) return true;
    const capacity = Math.max(1, rate);
    const key = `${account}/${region}/${quotaOf(operation)}`;
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: nowMs };
    // A clock moved backwards refills nothing.
    bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, nowMs - bucket.at) / 1000) * rate);
    bucket.at = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

function quotaOf(operation: string): string {
  return CRYPTOGRAPHIC_OPERATIONS.has(operation) ? CRYPTO_QUOTA : operation;
}

function positive(rate: number, quota: string): number {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`the quota for ${quota} must be a positive number of requests per second, got ${rate}`);
  return rate;
}
