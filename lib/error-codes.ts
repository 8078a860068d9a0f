/**
 * Stable error codes. A synth-time error's message, and the reason the import handler sends
 * CloudFormation when a deployment fails, start with the code in brackets (`[PartnerAccountId] ...`),
 * so that callers in any language can match on it. In JavaScript the synth-time error also has a
 * `code` property holding the code (docs/decisions/0015-errors-users-can-match.md).
 */
export enum ErrorCodes {
  /** A partner account id or partner principal is not valid, or is the key's own account. */
  ACCOUNT_ID = 'PartnerAccountId',
  /** `allowGrantsForAwsResources` on a key that is not a symmetric encryption key. */
  PARTNER_GRANTS = 'PartnerGrants',
  /** The key spec cannot have imported key material. */
  KEY_SPEC_NOT_IMPORTABLE = 'KeySpecNotImportable',
  /** The key usage is not valid for the key spec. */
  KEY_SPEC_USAGE = 'KeySpecUsage',
  /** The wrapping algorithm and wrapping key spec cannot carry this material. */
  WRAPPING_COMBINATION = 'WrappingCombination',
  /** Automatic key rotation was asked for; KMS does not rotate imported material. */
  ROTATION_NOT_ALLOWED = 'RotationNotAllowed',
  /** The material's expiration, renewal or expiry alarm is not valid. */
  EXPIRATION = 'Expiration',
  /** A region is not an AWS region name, or a replica is in its primary's region. */
  REGION = 'Region',
  /** The pending window is not 7 to 30 days. */
  PENDING_WINDOW = 'PendingWindow',
  /** A property is missing or not valid. */
  INVALID_PROPERTY = 'InvalidProperty',
  /** The material source (a secret, an HSM token) is not valid, is empty, or lacks the given JSON field. */
  MATERIAL_SOURCE = 'MaterialSource',
  /** A secret in another account is given without its customer managed KMS key. */
  SECRET_ENCRYPTION_KEY = 'SecretEncryptionKey',
  /** The secret's value does not have the declared encoding. */
  MATERIAL_ENCODING = 'MaterialEncoding',
  /** The decoded material does not fit the key spec. */
  MATERIAL_FORMAT = 'MaterialFormat',
  /** The material is not the material the key already holds. */
  MATERIAL_MISMATCH = 'MaterialMismatch',
  /** The key (or the replica's primary) was not found, or is in a state that does not allow the import. */
  KEY_STATE = 'KeyState',
  /** The import parameters published by the offline flow expired or are for another key or wrapping. */
  IMPORT_TOKEN = 'ImportToken',
  /** The import handler may not read a secret or use a key, or an HSM refused its PIN. */
  ACCESS_DENIED = 'AccessDenied',
  /** A property change that the deployed key cannot take. */
  UNSUPPORTED_UPDATE = 'UnsupportedUpdate',
  /** The import did not finish in time. */
  TIMEOUT = 'Timeout',
  /** Rotation to new material is not possible for this key, or a renewal found other material current. */
  ROTATION = 'Rotation',
  /** Another error returned by AWS. */
  AWS_ERROR = 'AwsError',
  /** The handler refused an event that did not come from its own stack. */
  UNTRUSTED_EVENT = 'UntrustedEvent',
}
