/**
 * A local AWS Secrets Manager in Node: the JSON 1.1 wire protocol, versions and staging labels,
 * resource policies, values sealed under the secret's KMS key, and hooks for authorization.
 * See docs/decisions/0012-own-secrets-manager.md.
 */
export { SecretsManagerServer } from './server';
export type { SecretsManagerServerOptions, SecretsCallRecord } from './server';
export { SecretsManagerError } from './errors';
export { MANAGED_KEY_ALIAS, StandaloneKeys } from './keyring';
export type { Caller, KeyAuthority, KeyUse } from './keyring';
export type { Authorizer, AuthorizationRequest } from './operations';
export type { SecretRecord } from './state';
