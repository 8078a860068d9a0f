import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { MaterialSourceProperties } from './private/contract';
import { MaterialKind } from './private/import-rules';
import { checkSecretIsReachable, secretArnForPolicy, secretReadStatements, secretValueStatement } from './private/secret-grants';
import type { Pkcs11KeyMaterialProps } from './pkcs11-material';

/** How a secret's value encodes the key material. */
export enum KeyMaterialEncoding {
  /** The secret is a `SecretBinary`: the raw bytes (symmetric/HMAC) or DER PKCS#8 (RSA/ECC). */
  BINARY = 'BINARY',
  /** A base64 `SecretString` (padding optional), as `openssl rand -base64 32` prints. */
  BASE64 = 'BASE64',
  /** A hexadecimal `SecretString`, as `openssl rand -hex 32` prints. */
  HEX = 'HEX',
  /** A PEM `SecretString`: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` or `EC PRIVATE KEY`. RSA/ECC/SM2 only. */
  PEM = 'PEM',
}

/** Options for {@link KeyMaterial.fromSecret}. */
export interface SecretKeyMaterialOptions {
  /**
   * How the secret's value encodes the material. An encoding given here that contradicts the
   * secret (a SecretBinary with BASE64, a SecretString with BINARY) fails the import clearly.
   *
   * @default - decided by the secret: a `SecretBinary` is the raw bytes (DER PKCS#8 for RSA, ECC and SM2 keys), as `aws secretsmanager create-secret --secret-binary fileb://PlaintextKeyMaterial.bin` stores them; a `SecretString` is base64 for symmetric and HMAC keys and PEM for RSA, ECC and SM2 keys
   */
  readonly encoding?: KeyMaterialEncoding;

  /**
   * Read this top-level field of a JSON `SecretString` (as the console stores key/value secrets).
   *
   * @default - the whole secret value
   */
  readonly jsonField?: string;

  /**
   * Pin a secret version. Changing it re-imports: the same material refreshes the import, new
   * material is refused for asymmetric and HMAC keys (KMS allows one material per such key).
   *
   * @default - the AWSCURRENT version at the time of each import
   */
  readonly versionId?: string;

  /**
   * Read this version stage instead of AWSCURRENT.
   *
   * @default 'AWSCURRENT'
   */
  readonly versionStage?: string;

  /**
   * The customer managed KMS key the secret is encrypted with. The import role gets `kms:Decrypt`
   * on it through Secrets Manager only (`kms:ViaService`). Required for a secret in another
   * account, which AWS reads only under a customer managed key (see docs/cross-account-secrets.md).
   *
   * @default - the secret's `encryptionKey`, if it has one; else the secret is taken to use aws/secretsmanager
   */
  readonly encryptionKey?: kms.IKey;
}

/** What a material source contributes to one key's import. @internal */
export interface KeyMaterialBinding {
  readonly source: MaterialSourceProperties;
  /** What the import handler needs to read the material, scoped to exact ARNs. */
  readonly statements: iam.PolicyStatement[];
}

/**
 * Where the key material comes from. The material itself never enters the CloudFormation
 * template: only a reference to it does, and the import handler reads it at deploy time.
 */
export abstract class KeyMaterial {
  /**
   * Key material stored in an AWS Secrets Manager secret.
   */
  public static fromSecret(secret: secretsmanager.ISecret, options: SecretKeyMaterialOptions = {}): KeyMaterial {
    return new SecretKeyMaterial(secret, options);
  }

  /**
   * Key material that stays in an HSM: the import handler has the HSM wrap the key under the KMS
   * wrapping public key over PKCS#11, so the plaintext key never leaves the HSM. See docs/hsm.md.
   */
  public static fromPkcs11(props: Pkcs11KeyMaterialProps): KeyMaterial {
    // Required here, not imported: Pkcs11KeyMaterial extends this class, so its module can only
    // load once this one has.
    const { Pkcs11KeyMaterial } = require('./pkcs11-material') as typeof import('./pkcs11-material');
    return new Pkcs11KeyMaterial(props);
  }

  /**
   * The offline (two-phase) flow, for an HSM the handler cannot reach (air-gapped, on premises).
   * Phase 1 (no `wrappedMaterial`) publishes the wrapping public key and import token to
   * `parametersSecret`; you wrap the key in your HSM; phase 2 (deploy again with
   * `wrappedMaterial`) imports the wrapped blob, within 24 hours of phase 1. See docs/hsm.md.
   */
  public static fromOfflineWrap(options: OfflineWrapOptions): KeyMaterial {
    return new OfflineWrapKeyMaterial(options);
  }

  /** @internal */
  public abstract _bind(scope: IConstruct, kind: MaterialKind): KeyMaterialBinding;
}

class SecretKeyMaterial extends KeyMaterial {
  constructor(private readonly secret: secretsmanager.ISecret, private readonly options: SecretKeyMaterialOptions) {
    super();
  }

  public _bind(scope: IConstruct, _kind: MaterialKind): KeyMaterialBinding {
    checkSecretIsReachable(this.secret, scope);
    const statements = secretReadStatements(this.secret, scope, this.options.encryptionKey, 'the material secret', this.options.versionId);
    return {
      source: {
        Type: 'SecretsManager',
        SecretArn: this.secret.secretArn,
        VersionId: this.options.versionId,
        VersionStage: this.options.versionStage,
        Encoding: this.options.encoding,
        JsonField: this.options.jsonField,
      },
      statements,
    };
  }
}

/** Options for {@link KeyMaterial.fromOfflineWrap}. */
export interface OfflineWrapOptions {
  /**
   * A secret that phase 1 overwrites with the wrapping public key and import token (JSON: keyArn,
   * wrappingAlgorithm, wrappingKeySpec, publicKey, publicKeyPem, importToken, parametersValidTo).
   * They are not secret, but a secret keeps them with the key's other import inputs.
   */
  readonly parametersSecret: secretsmanager.ISecret;

  /**
   * Phase 2: the secret holding the wrapped key material (EncryptedKeyMaterial), base64 in a
   * SecretString or raw in a SecretBinary, made with the published public key and algorithm.
   *
   * @default - phase 1: publish the parameters and leave the key PendingImport
   */
  readonly wrappedMaterial?: secretsmanager.ISecret;

  /**
   * The version of `wrappedMaterial` to import; a new wrap stored as a new version is imported
   * when this changes.
   *
   * @default - AWSCURRENT
   */
  readonly wrappedMaterialVersionId?: string;

  /**
   * Change this (e.g. 1, 2, ...) in phase 1 to ask for new parameters, for example when the
   * import token expired before the wrapped material was imported.
   *
   * @default 0
   */
  readonly parametersGeneration?: number;
}

class OfflineWrapKeyMaterial extends KeyMaterial {
  constructor(private readonly options: OfflineWrapOptions) {
    super();
  }

  public _bind(scope: IConstruct): KeyMaterialBinding {
    const { parametersSecret, wrappedMaterial } = this.options;
    checkSecretIsReachable(parametersSecret, scope);
    if (wrappedMaterial) checkSecretIsReachable(wrappedMaterial, scope);
    const statements = [
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], resources: [secretArnForPolicy(parametersSecret)] }),
      ...(wrappedMaterial ? [secretValueStatement(wrappedMaterial, this.options.wrappedMaterialVersionId)] : []),
      ...[parametersSecret, wrappedMaterial].filter((s) => s?.encryptionKey).map((s) => new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [s!.encryptionKey!.keyArn],
      })),
    ];
    return {
      source: {
        Type: 'OfflineWrap',
        ParametersSecretArn: parametersSecret.secretArn,
        WrappedSecretArn: wrappedMaterial?.secretArn,
        WrappedVersionId: this.options.wrappedMaterialVersionId,
        ParametersGeneration: this.options.parametersGeneration !== undefined ? String(this.options.parametersGeneration) : undefined,
      },
      statements,
    };
  }
}
