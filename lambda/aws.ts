import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isThrottlingError, StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { ErrorCodes } from '../lib/private/contract';
import { ImportError } from './errors';

/**
 * One client per service and region, kept across warm invocations. The SDK's standard retry
 * strategy retries 5xx and dropped connections with backoff; throttling is left to `patience`
 * below. Endpoints follow the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_KMS /
 * AWS_ENDPOINT_URL_SECRETS_MANAGER variables.
 */
const MAX_ATTEMPTS = 5;

type Client = KMSClient | SecretsManagerClient;
const clients = new Map<string, { client: Client; stop: AbortController }>();

/**
 * Throttling is normal here: KMS allows one GetParametersForImport every 4 seconds per account
 * and Region (AWS KMS Developer Guide, "Request quotas",
 * https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html), and
 * CloudFormation starts every import of a stack at once. A throttled request was refused before
 * KMS looked at it, so sending it again is safe; the call is repeated after a jittered pause
 * ("full jitter", growing to at most THROTTLE_MAX_PAUSE_MS, half a GetParametersForImport interval,
 * so that a freed slot is taken within about a second while many imports wait, bench/quotas.js)
 * until it succeeds or the handler's deadline stops the client. Nothing else is repeated here: a
 * call whose outcome is unknown (a lost response) is the SDK's and importer.ts's business.
 */
const THROTTLE_FIRST_PAUSE_MS = 250;
const THROTTLE_MAX_PAUSE_MS = 2_000;

/** The pause before the `attempt`-th repetition (0-based) of a throttled call. */
export function throttlePauseMs(attempt: number, random: () => number = Math.random): number {
  return random() * Math.min(THROTTLE_MAX_PAUSE_MS, THROTTLE_FIRST_PAUSE_MS * 2 ** Math.min(attempt, 10));
}

/**
 * The SDK's standard strategy, except that it does not retry throttling: `patience` does, without
 * limit until the deadline. Left to the SDK, every throttled call would also spend its retry quota
 * (500 tokens, 5 per retry), and after some minutes of waiting for a GetParametersForImport slot
 * it would no longer retry a dropped connection.
 */
class ThrottlingLeftToCaller implements RetryStrategyV2 {
  private readonly standard = new StandardRetryStrategy(MAX_ATTEMPTS);
  acquireInitialRetryToken(scope: string): Promise<StandardRetryToken> {
    return this.standard.acquireInitialRetryToken(scope);
  }
  refreshRetryTokenForRetry(token: StandardRetryToken, error: RetryErrorInfo): Promise<StandardRetryToken> {
    if (error.errorType === 'THROTTLING') return Promise.reject(new Error('throttling is retried by the caller'));
    return this.standard.refreshRetryTokenForRetry(token, error);
  }
  recordSuccess(token: StandardRetryToken): void {
    this.standard.recordSuccess(token);
  }
}

function cached<T extends Client>(make: new (config: { region: string; retryStrategy: RetryStrategyV2; cacheMiddleware: boolean }) => T, region: string): T {
  const key = `${make.name}:${region}`;
  if (!clients.has(key)) {
    // cacheMiddleware: build each command's middleware stack once (measured: about 1 ms of CPU
    // per import). It applies only to calls without per-call options, so none are passed; the
    // deadline stops in-flight calls by destroying the clients instead (abortAllClients).
    const client = new make({ region, retryStrategy: new ThrottlingLeftToCaller(), cacheMiddleware: true });
    const stop = new AbortController();
    (client.middlewareStack as { add(middleware: unknown, options: object): void }).add(patience(stop.signal), { step: 'initialize', name: 'cdkKmsByokThrottlingPatience' });
    clients.set(key, { client, stop });
  }
  return clients.get(key)!.client as T;
}

/** Repeats a throttled call after a jittered pause until it is not throttled or `stop` is aborted. */
function patience(stop: AbortSignal) {
  return (next: (args: any) => Promise<any>) => async (args: any) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await next(args);
      } catch (e) {
        if (stop.aborted || !isThrottlingError(e as any)) throw e;
        await pause(throttlePauseMs(attempt), stop);
      }
    }
  };
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stopped = () => {
      clearTimeout(timer);
      reject(new ImportError(ErrorCodes.TIMEOUT, 'stopped while waiting out KMS throttling: the deadline passed'));
    };
    const timer = setTimeout(() => {
      stop.removeEventListener('abort', stopped);
      resolve();
    }, ms);
    stop.addEventListener('abort', stopped, { once: true });
  });
}

/** Stops every in-flight call (their sockets are closed) and every wait for a quota; the next call makes new clients. */
export function abortAllClients(): void {
  for (const { client, stop } of clients.values()) {
    stop.abort();
    client.destroy();
  }
  clients.clear();
}

export function kmsClient(region: string): KMSClient {
  return cached(KMSClient, region);
}

export function secretsClient(region: string): SecretsManagerClient {
  return cached(SecretsManagerClient, region);
}

/** The parts of an ARN the handler needs. */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } | undefined {
  const m = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/.exec(arn);
  return m ? { partition: m[1], service: m[2], region: m[3], account: m[4], resource: m[5] } : undefined;
}

/** The region of a Secrets Manager secret ARN; `role` says which secret it is in the error. */
export function secretRegion(secretArn: string, role = ''): string {
  const arn = parseArn(secretArn);
  if (!arn || arn.service !== 'secretsmanager') {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `'${secretArn}' is not a Secrets Manager secret ARN${role}`);
  }
  return arn.region;
}
