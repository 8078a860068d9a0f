/**
 * The contract between the construct (lib/), the handler (lambda/) and the test kit (testing/):
 * the custom resources' types, their property names, the encodings of a secret's value, the
 * attributes the handler answers with and the error codes. Each is defined here and only here.
 *
 * CloudFormation hands every property value to the handler as a string, so every field here is
 * a string. Only ARNs and references travel in these properties, never key material.
 */

/** CloudFormation resource type of the per-key import custom resource. */
export const IMPORT_RESOURCE_TYPE = 'Custom::KmsKeyMaterialImport';

/** Where the handler reads the key material from. */
export type MaterialSourceProperties = SecretsManagerSourceProperties | Pkcs11SourceProperties | OfflineWrapSourceProperties;

/**
 * The offline (two-phase) flow: phase 1 (no WrappedSecretArn) publishes the wrapping public key
 * and import token to ParametersSecretArn; the user wraps outside AWS (an air-gapped HSM);
 * phase 2 imports the wrapped blob stored in WrappedSecretArn with the published token.
 */
export interface OfflineWrapSourceProperties {
  readonly Type: 'OfflineWrap';
  readonly ParametersSecretArn: string;
  readonly WrappedSecretArn?: string;
  readonly WrappedVersionId?: string;
  /** Changing it asks phase 1 for new parameters (e.g. after the token expired unused). */
  readonly ParametersGeneration?: string;
}

/** What phase 1 writes to the parameters secret (JSON), for the user's wrapping step. */
export interface PublishedImportParameters {
  readonly keyArn: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  /** The wrapping public key: base64 DER (SubjectPublicKeyInfo), and the same as PEM. */
  readonly publicKey: string;
  readonly publicKeyPem: string;
  /** base64 */
  readonly importToken: string;
  /** ISO 8601: import before this moment. */
  readonly parametersValidTo: string;
}

export interface SecretsManagerSourceProperties {
  readonly Type: 'SecretsManager';
  /** Full or partial secret ARN (a partial ARN still names the region and account). */
  readonly SecretArn: string;
  /** Pinned version; a change here is what triggers a re-import. */
  readonly VersionId?: string;
  readonly VersionStage?: string;
  /**
   * How the secret value encodes the material: one of {@link MaterialEncodings}. Absent: a
   * SecretBinary is raw bytes (DER for private keys), a SecretString base64 (symmetric, HMAC) or PEM.
   */
  readonly Encoding?: MaterialEncodingName;
  /** Read this top-level field of a JSON SecretString instead of the whole string. */
  readonly JsonField?: string;
}

/**
 * The key stays in an HSM, which wraps it itself (C_WrapKey) under the KMS wrapping public key.
 * Only references travel: the library path, the token and key names, and the ARN of the secret
 * holding the PIN.
 */
export interface Pkcs11SourceProperties {
  readonly Type: 'Pkcs11';
  /** Absolute path of the HSM vendor's PKCS#11 library in the handler, e.g. under /opt (a layer). */
  readonly ModulePath: string;
  /** CKA_LABEL of the token (HSM partition) holding the key. */
  readonly TokenLabel: string;
  /** ARN of the secret whose SecretString is the user PIN (CKU_USER). */
  readonly PinSecretArn: string;
  /** Read this top-level field of a JSON SecretString instead of the whole string. */
  readonly PinJsonField?: string;
  /** CKA_LABEL of the key to import. At least one of KeyLabel and KeyId is set. */
  readonly KeyLabel?: string;
  /** CKA_ID of the key to import, in hexadecimal. */
  readonly KeyId?: string;
}
/**
 * How a secret's value encodes the material: the values of the public `KeyMaterialEncoding`
 * (lib/key-material.ts), which the handler decodes (lambda/material.ts). The construct puts an
 * enum value into `SecretsManagerSourceProperties.Encoding`, which is typed with these names, so
 * an enum value missing here does not compile.
 */
export const MaterialEncodings = {
  /** A SecretBinary: the raw bytes (symmetric, HMAC) or DER PKCS#8 (RSA, ECC, SM2). */
  BINARY: 'BINARY',
  /** A base64 SecretString. */
  BASE64: 'BASE64',
  /** A hexadecimal SecretString. */
  HEX: 'HEX',
  /** A PEM SecretString holding one private key. */
  PEM: 'PEM',
} as const;
export type MaterialEncodingName = (typeof MaterialEncodings)[keyof typeof MaterialEncodings];

export interface ExpirationProperties {
  /** KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE, sent to KMS explicitly. */
  readonly Model: string;
  /** Absolute expiry (ISO 8601), for `KeyMaterialExpiration.at()`. */
  readonly ValidTo?: string;
  /** Relative expiry in seconds from each import, for `KeyMaterialExpiration.after()`. */
  readonly ValidForSeconds?: string;
}

export interface ImportResourceProperties {
  readonly ServiceToken: string;
  /** ARN of the EXTERNAL-origin key (a primary key or a replica) to import into. */
  readonly KeyArn: string;
  readonly KeySpec: string;
  readonly KeyUsage: string;
  readonly WrappingAlgorithm: string;
  readonly WrappingKeySpec: string;
  readonly Material: MaterialSourceProperties;
  readonly Expiration: ExpirationProperties;
  /** 'true' to call DeleteImportedKeyMaterial when the resource is deleted. */
  readonly DeleteMaterialOnRemoval?: string;
  /**
   * 'true' to rotate a symmetric key to new material (NEW_KEY_MATERIAL + RotateKeyOnDemand) when
   * the material reference changes and KMS says the material is new; otherwise new material fails.
   */
  readonly RotateOnNewMaterial?: string;
  /** 'true' for a multi-Region replica key: its material must be the primary's (EXISTING_KEY_MATERIAL). */
  readonly Replica?: string;
}

/** CloudFormation resource type that finds a multi-Region primary key by alias in its region. */
export const PRIMARY_LOOKUP_RESOURCE_TYPE = 'Custom::KmsPrimaryKeyLookup';

export interface PrimaryLookupProperties {
  readonly ServiceToken: string;
  readonly PrimaryRegion: string;
  readonly AliasName: string;
  /** The key spec the replica was declared with; the primary must have it. */
  readonly KeySpec: string;
  readonly KeyUsage: string;
}

/**
 * The event of the scheduled renewal (an EventBridge rule targeting the handler): re-import the
 * same material with a fresh ValidTo, through the same code path as the custom resource.
 */
export interface RenewalEvent {
  readonly source: 'cdk-kms-byok';
  readonly action: 'renew';
  readonly properties: ImportResourceProperties;
  /**
   * Renew only material imported at least this many seconds ago (the rule fires daily or hourly
   * at the key's own minute, private/renewal-schedule.ts); absent: renew on every event.
   */
  readonly renewAfterSeconds?: string;
}

/** Attributes the import handler returns (`Fn::GetAtt` names). */
export const ImportAttributes = {
  KEY_ARN: 'KeyArn',
  KEY_ID: 'KeyId',
  /** The key's current material (DescribeKey's CurrentKeyMaterialId); empty before KMS names one. */
  KEY_MATERIAL_ID: 'KeyMaterialId',
  /** ISO 8601 expiry of the key's material; empty when it does not expire. */
  VALID_TO: 'ValidTo',
  /** Phase 1 of the offline flow only: ISO 8601 expiry of the import parameters it published. */
  PARAMETERS_VALID_TO: 'ParametersValidTo',
} as const;

/** Attributes the primary key lookup returns (`Fn::GetAtt` names). */
export const PrimaryLookupAttributes = {
  /** ARN of the multi-Region primary key. */
  ARN: 'Arn',
} as const;

/** Stable error codes: a public enum (lib/error-codes.ts), shared with the handler. */
export { ErrorCodes } from '../error-codes';

/**
 * The handler's environment variable holding the id of the stack it was deployed with (`AWS::StackId`):
 * it acts only on that stack's events (docs/decisions/0011-events-only-from-own-stack.md).
 */
export const STACK_ID_ENV = 'CDK_KMS_BYOK_STACK_ID';

/** The body a custom resource PUTs to CloudFormation's pre-signed ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
}
