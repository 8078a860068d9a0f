import { CustomResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IMPORT_SERVICE_TIMEOUT, ImportProvider } from './import-provider';
import { ImportedKeyBase, ImportedKeyOptions } from './key-base';
import { ErrorCodes, ImportAttributes, PRIMARY_LOOKUP_RESOURCE_TYPE, PrimaryLookupProperties } from './private/contract';
import { ByokError } from './private/errors';
import { IMPORTABLE_KEY_SPECS, partitionOf } from './private/import-rules';

/** Properties of an {@link ExternalKeyReplica}. */
export interface ExternalKeyReplicaProps extends ImportedKeyOptions {
  /**
   * ARN of the multi-Region primary key (an `ExternalKey` with `multiRegion: true`), when known.
   *
   * @default - found by `primaryAlias` in `primaryRegion` at deploy time
   */
  readonly primaryKeyArn?: string;

  /**
   * Region of the primary key, to find it by `primaryAlias`.
   *
   * @default - required unless primaryKeyArn is given
   */
  readonly primaryRegion?: string;

  /**
   * Alias of the primary key in its region, e.g. `alias/bluescape-workspace`. Deploy the
   * primary's stack first (`replicaStack.addStackDependency(primaryStack)`).
   *
   * @default - required unless primaryKeyArn is given
   */
  readonly primaryAlias?: string;

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
export class ExternalKeyReplica extends ImportedKeyBase {
  public readonly keyArn: string;
  public readonly keyId: string;
  /** The CloudFormation replica key resource, for escape hatches. Its ARN does not wait for the import. */
  public readonly cfnReplicaKey: kms.CfnReplicaKey;

  constructor(scope: Construct, id: string, props: ExternalKeyReplicaProps) {
    super(scope, id);
    const keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const keyUsage = props.keyUsage ?? (IMPORTABLE_KEY_SPECS[keySpec]?.usages[0] as kms.KeyUsage | undefined) ?? kms.KeyUsage.ENCRYPT_DECRYPT;
    const stack = Stack.of(this);
    const partition = Token.isUnresolved(stack.region) ? undefined : partitionOf(stack.region);
    const checked = this._checkOptions(props, keySpec, keyUsage, partition);

    const primaryKeyArn = props.primaryKeyArn ?? this.lookUpPrimary(props, keySpec, keyUsage);
    this.cfnReplicaKey = new kms.CfnReplicaKey(this, 'Resource', {
      primaryKeyArn,
      keyPolicy: this.policy,
      description: props.description,
      pendingWindowInDays: props.pendingWindow?.toDays(),
    });
    this.cfnReplicaKey.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    const importResource = this._setUpImport(props, {
      keyArn: this.cfnReplicaKey.attrArn, keySpec, keyUsage, kind: checked.kind, partition, replica: true,
    }, checked);
    this.keyArn = importResource.getAttString(ImportAttributes.KEY_ARN);
    this.keyId = importResource.getAttString(ImportAttributes.KEY_ID);
    this._finish(props);
  }

  private lookUpPrimary(props: ExternalKeyReplicaProps, keySpec: string, keyUsage: string): string {
    const { primaryRegion, primaryAlias } = props;
    if (!primaryRegion || !primaryAlias) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'an ExternalKeyReplica needs primaryKeyArn, or primaryRegion and primaryAlias to find the primary key', this);
    }
    const stack = Stack.of(this);
    if (!Token.isUnresolved(primaryRegion) && partitionOf(primaryRegion) === undefined) {
      throw new ByokError(ErrorCodes.REGION, `primaryRegion '${primaryRegion}' is not an AWS region name`, this);
    }
    if (!Token.isUnresolved(primaryRegion) && primaryRegion === stack.region) {
      throw new ByokError(ErrorCodes.REGION, `a replica must be in another region than its primary (both are in ${primaryRegion})`, this);
    }
    const provider = ImportProvider.getOrCreate(this);
    const { policyDependable } = provider.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:DescribeKey'],
      resources: [stack.formatArn({ service: 'kms', region: primaryRegion, resource: 'key', resourceName: '*' })],
      // Only the key behind that alias.
      conditions: { StringEquals: { 'kms:RequestAlias': primaryAlias } },
    }));
    const properties: Omit<PrimaryLookupProperties, 'ServiceToken'> = { PrimaryRegion: primaryRegion, AliasName: primaryAlias, KeySpec: keySpec, KeyUsage: keyUsage };
    const lookup = new CustomResource(this, 'PrimaryLookup', {
      serviceToken: provider.serviceToken,
      serviceTimeout: IMPORT_SERVICE_TIMEOUT,
      resourceType: PRIMARY_LOOKUP_RESOURCE_TYPE,
      properties,
    });
    if (policyDependable) lookup.node.addDependency(policyDependable);
    return lookup.getAttString('Arn');
  }
}
