import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Properties of `KeyMaterial.fromPkcs11`: where the key is, and how the handler logs in to it. How
 * the handler reaches the HSM over the network is a setting of its import provider
 * (`ImportProviderProps.hsm`).
 */
export interface Pkcs11KeyMaterialProps {
  /**
   * Absolute path of the HSM vendor's PKCS#11 library in the import handler, usually under /opt
   * where `moduleLayer` puts it, e.g. `/opt/cloudhsm/lib/libcloudhsm_pkcs11.so`.
   */
  readonly modulePath: string;

  /**
   * A Lambda layer holding the PKCS#11 library and the client configuration it needs (see
   * docs/hsm.md). It is added, once, to the key's import provider.
   *
   * @default - no layer: the library must already be in the handler's file system
   */
  readonly moduleLayer?: lambda.ILayerVersion;

  /** Label of the token (HSM partition) that holds the key; tokens are found by label, not slot id. */
  readonly tokenLabel: string;

  /**
   * The secret whose value is the user PIN of the token (for CloudHSM: `<crypto user>:<password>`).
   * The handler reads it at deploy time; the PIN never enters the template.
   */
  readonly pinSecret: secretsmanager.ISecret;

  /**
   * The customer managed KMS key the PIN secret is encrypted with; required for a PIN secret in
   * another account (see docs/cross-account-secrets.md).
   *
   * @default - the PIN secret's `encryptionKey`, if it has one
   */
  readonly pinSecretEncryptionKey?: kms.IKey;

  /**
   * Read the PIN from this top-level field of a JSON secret.
   *
   * @default - the whole secret value is the PIN
   */
  readonly pinJsonField?: string;

  /**
   * The key's label (CKA_LABEL). Give `keyLabel`, `keyId` or both; together they must name one key.
   *
   * @default - the key is found by keyId alone
   */
  readonly keyLabel?: string;

  /**
   * The key's id (CKA_ID) in hexadecimal, e.g. `'01a2'`.
   *
   * @default - the key is found by keyLabel alone
   */
  readonly keyId?: string;
}
