import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * One client per service and region, kept across warm invocations. The SDK's standard retry
 * strategy retries throttling, 5xx and dropped connections with backoff. Endpoints follow the
 * standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL_SECRETS_MANAGER variables.
 */
const MAX_ATTEMPTS = 5;
const kmsClients = new Map<string, KMSClient>();
const secretsClients = new Map<string, SecretsManagerClient>();

export function kmsClient(region: string): KMSClient {
  let client = kmsClients.get(region);
  if (!client) {
    client = new KMSClient({ region, maxAttempts: MAX_ATTEMPTS });
    kmsClients.set(region, client);
  }
  return client;
}

export function secretsClient(region: string): SecretsManagerClient {
  let client = secretsClients.get(region);
  if (!client) {
    client = new SecretsManagerClient({ region, maxAttempts: MAX_ATTEMPTS });
    secretsClients.set(region, client);
  }
  return client;
}

/** The parts of an ARN the handler needs. */
export function parseArn(arn: string): { partition: string; service: string; region: string; account: string; resource: string } | undefined {
  const m = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/.exec(arn);
  return m ? { partition: m[1], service: m[2], region: m[3], account: m[4], resource: m[5] } : undefined;
}
