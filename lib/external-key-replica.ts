import * as kms from 'aws-cdk-lib/aws-kms';
import { propertyInjectable } from 'aws-cdk-lib/core/lib/prop-injectable';
import { Construct } from 'constructs';
import { ExternalKeyBase, ExternalKeyOptions } from './key-base';
import { PrimaryKey } from './primary-key';
import { DEFAULT_KEY_REMOVAL_POLICY } from './private/defaults';
import { ErrorCodes } from './private/contract';
import { ByokError } from './private/errors';
import { defaultKeyUsage } from './private/import-rules';
import { KeyImport } from './private/key-import';

/** Properties of an {@link ExternalKeyReplica}. */
export interface ExternalKeyReplicaProps extends ExternalKeyOptions {
  /**
   * The multi-Region primary key (an `ExternalKey` with `multiRegion: true` in another region):
   * `PrimaryKey.fromKeyArn(arn)`, `PrimaryKey.fromKey(key)` or `PrimaryKey.fromAlias(region, alias)`.
   */
  readonly primaryKey: PrimaryKey;

  /**
   * The primary key's spec. A replica always has its primary's spec; this says which material
   * checks apply, and the deployment fails clearly if the primary differs.
   *
   * @default KeySpec.SYMMETRIC_DEFAULT
   */
  readonly keySpec?: kms.KeySpec;

  /**
   * The primary key's usage.
   *
   * @default - the default usage of the key spec, as for ExternalKey
   */
  readonly keyUsage?: kms.KeyUsage;
}

/**
 * A replica, in this stack's region, of a multi-Region `ExternalKey`, holding the same key
 * material: KMS does not copy imported material to replicas, so the replica gets its own
 * wrapping key and import token and imports the primary's material (EXISTING_KEY_MATERIAL).
 * Ciphertexts of the primary decrypt with the replica and vice versa.
 */
@propertyInjectable
export class ExternalKeyReplica extends ExternalKeyBase {
  /** Uniquely identifies this class for property injection (`PropertyInjectors`). */
  public static readonly PROPERTY_INJECTION_ID: string = 'cdk-kms-byok.ExternalKeyReplica';

  public readonly keyArn: string;
  public readonly keyId: string;
  /** The CloudFormation replica key resource, for escape hatches. Its ARN does not wait for the import. */
  public readonly cfnReplicaKey: kms.CfnReplicaKey;

  constructor(scope: Construct, id: string, props: ExternalKeyReplicaProps) {
    super(scope, id, props);
    if (!props.primaryKey) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'primaryKey is required: name the multi-Region primary key with PrimaryKey.fromKeyArn, PrimaryKey.fromKey or PrimaryKey.fromAlias', this);
    }
    const keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const keyUsage = props.keyUsage ?? defaultKeyUsage(keySpec) as kms.KeyUsage;
    this.cfnReplicaKey = new kms.CfnReplicaKey(this, 'Resource', {
      primaryKeyArn: props.primaryKey._bind(this, keySpec, keyUsage),
      keyPolicy: this.policy,
      description: props.description,
      pendingWindowInDays: props.pendingWindow?.toDays(),
    });
    this.cfnReplicaKey.applyRemovalPolicy(props.removalPolicy ?? DEFAULT_KEY_REMOVAL_POLICY);

    const imported = new KeyImport(this, { resource: this.cfnReplicaKey, policy: this.policy, keySpec, keyUsage, options: props });
    this.keyArn = imported.keyArn;
    this.keyId = imported.keyId;
    if (props.alias) this.addAlias(props.alias);
    for (const admin of props.admins ?? []) this.grantAdmin(admin);
  }
}
