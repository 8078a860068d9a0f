import { CustomResource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IMPORT_SERVICE_TIMEOUT, ImportProvider } from './import-provider';
import { ImportedKeyBase, ImportedKeyOptions } from './key-base';
import { DEFAULT_KEY_REMOVAL_POLICY } from './private/defaults';
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
    this.cfnReplicaKey.applyRemovalPolicy(props.removalPolicy ?? DEFAULT_KEY_REMOVAL_POLICY);

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
    // The primary's key id is unknown until deploy time: any key of the primary region, but only
    // when named by that alias (kms:RequestAlias, docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
    // A policy of its own, so that the acknowledged wildcard covers this statement only.
    const anyPrimaryKey = stack.formatArn({ service: 'kms', region: primaryRegion, resource: 'key', resourceName: '*' });
    const policy = new iam.Policy(this, 'PrimaryLookupPolicy', {
      roles: [provider.role],
      statements: [new iam.PolicyStatement({
        actions: ['kms:DescribeKey'],
        resources: [anyPrimaryKey],
        conditions: { StringEquals: { 'kms:RequestAlias': primaryAlias } },
      })],
    });
    // cdk-nag names a wildcard finding by the resource, CloudFormation references written <Ref>.
    Validations.of(policy.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagName(stack.resolve(anyPrimaryKey))}]`,
      reason: 'kms:DescribeKey on key/* of the primary region is limited by kms:RequestAlias to the key behind the primary\'s alias; the primary key id is only known at deploy time (found by that alias).',
    });
    const properties: Omit<PrimaryLookupProperties, 'ServiceToken'> = { PrimaryRegion: primaryRegion, AliasName: primaryAlias, KeySpec: keySpec, KeyUsage: keyUsage };
    const lookup = new CustomResource(this, 'PrimaryLookup', {
      serviceToken: provider.serviceToken,
      serviceTimeout: IMPORT_SERVICE_TIMEOUT,
      resourceType: PRIMARY_LOOKUP_RESOURCE_TYPE,
      properties,
    });
    lookup.node.addDependency(policy);
    return lookup.getAttString('Arn');
  }
}

/** A resolved value as cdk-nag writes it in a finding id: Fn::Join flattened, `{ Ref: X }` as `<X>`. */
function nagName(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(nagName).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}
