import { Validations } from 'aws-cdk-lib';
import { propertyInjectable } from 'aws-cdk-lib/core/lib/prop-injectable';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ExternalKeyBase, ExternalKeyOptions } from './key-base';
import { DEFAULT_KEY_REMOVAL_POLICY } from './private/defaults';
import { ErrorCodes, IMPORT_RESOURCE_TYPE } from './private/contract';
import { ByokError } from './private/errors';
import { defaultKeyUsage } from './private/import-rules';
import { KeyImport } from './private/key-import';

/** Properties of an {@link ExternalKey}. */
export interface ExternalKeyProps extends ExternalKeyOptions {
  /**
   * The type of key. Every spec KMS can import is supported: SYMMETRIC_DEFAULT, HMAC_*, RSA_*,
   * ECC_NIST_*, ECC_SECG_P256K1 and (China partition only) SM2.
   *
   * @default KeySpec.SYMMETRIC_DEFAULT
   */
  readonly keySpec?: kms.KeySpec;

  /**
   * What the key is for.
   *
   * @default - ENCRYPT_DECRYPT for symmetric and RSA keys, GENERATE_VERIFY_MAC for HMAC keys, SIGN_VERIFY for ECC and SM2 keys
   */
  readonly keyUsage?: kms.KeyUsage;

  /**
   * Create a multi-Region primary key; add replicas with `ExternalKeyReplica` in other regions.
   *
   * @default false
   */
  readonly multiRegion?: boolean;

  /**
   * Rotate to new material (KMS on-demand rotation of imported material) when the material
   * reference changes to material the key does not hold. Symmetric single-Region keys only; data
   * encrypted under earlier material still decrypts.
   *
   * @default false - new material is refused, so that a wrong secret never replaces the key's material
   */
  readonly rotateOnNewMaterial?: boolean;

  /**
   * Automatic key rotation. KMS cannot rotate imported material automatically, so only `false`
   * (or leaving it unset) is accepted; the property exists to give a clear error to code ported
   * from `kms.Key`.
   *
   * @default false
   */
  readonly enableKeyRotation?: boolean;
}

/**
 * A KMS key whose key material you supply (origin EXTERNAL), imported at deploy time from
 * Secrets Manager by a custom resource, shareable with partner accounts.
 *
 * It is a `kms.IKey`: grants, aliases and `keyArn` work as for any key. `keyArn` and `keyId` come
 * from the import, so resources that use the key wait until it holds material and is Enabled.
 */
@propertyInjectable
export class ExternalKey extends ExternalKeyBase {
  /** Uniquely identifies this class for property injection (`PropertyInjectors`). */
  public static readonly PROPERTY_INJECTION_ID: string = 'cdk-kms-byok.ExternalKey';

  /**
   * The CloudFormation type of the custom resource that imports the material into a key or a
   * replica, e.g. for `Template.fromStack(stack).resourceCountIs(ExternalKey.IMPORT_RESOURCE_TYPE, 1)`.
   */
  public static readonly IMPORT_RESOURCE_TYPE: string = IMPORT_RESOURCE_TYPE;

  public readonly keyArn: string;
  public readonly keyId: string;
  /** The id of the key material the last import made current (symmetric keys only, else empty). */
  public readonly keyMaterialId: string;
  /** The key spec. */
  public readonly keySpec: kms.KeySpec;
  /** The key usage. */
  public readonly keyUsage: kms.KeyUsage;
  /** The CloudFormation key resource, for escape hatches. Its ARN does not wait for the import. */
  public readonly cfnKey: kms.CfnKey;

  constructor(scope: Construct, id: string, props: ExternalKeyProps) {
    super(scope, id, props);
    const keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const keyUsage = props.keyUsage ?? defaultKeyUsage(keySpec) as kms.KeyUsage;
    if (props.enableKeyRotation) {
      throw new ByokError(ErrorCodes.ROTATION_NOT_ALLOWED, 'enableKeyRotation cannot be true: KMS does not rotate imported key material automatically; rotate by importing new material (see the README, "Lifecycle")', this);
    }
    this.keySpec = keySpec;
    this.keyUsage = keyUsage;

    this.cfnKey = new kms.CfnKey(this, 'Resource', {
      origin: 'EXTERNAL',
      keySpec,
      keyUsage,
      description: props.description,
      keyPolicy: this.policy,
      multiRegion: props.multiRegion,
      pendingWindowInDays: props.pendingWindow?.toDays(),
    });
    this.cfnKey.applyRemovalPolicy(props.removalPolicy ?? DEFAULT_KEY_REMOVAL_POLICY);
    // cdk-nag's KMS5 asks every symmetric key for automatic rotation, which KMS does not allow
    // for imported material (it is rotated on demand with new material instead).
    Validations.of(this.cfnKey).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported (EXTERNAL origin) key material automatically; EnableKeyRotation must stay unset. Rotate by importing new material on demand.',
    });

    const imported = new KeyImport(this, { resource: this.cfnKey, policy: this.policy, keySpec, keyUsage, options: props, rotateOnNewMaterial: props.rotateOnNewMaterial });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    this.keyMaterialId = imported.keyMaterialId;
    if (props.alias) this.addAlias(props.alias);
    for (const admin of props.admins ?? []) this.grantAdmin(admin);
  }
}
