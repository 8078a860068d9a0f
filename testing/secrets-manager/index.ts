/**
 * A local AWS Secrets Manager in Node: the JSON 1.1 wire protocol, versions and staging labels,
 * resource policies, values sealed under the secret's KMS key, every request authorized as its principal.
 * See docs/testing-kit.md and docs/decisions/0012-own-secrets-manager.md.
 */
export { SecretsManagerServer } from './server';
export type { SecretsManagerServerOptions, SecretsCallRecord } from './server';
export { SecretsManagerError } from './errors';
export type { Caller, KeyAuthority, KeyUse } from './keyring';
export type { SecretRecord } from './state';
