import { Arn, ArnFormat, CustomResource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IMPORT_SERVICE_TIMEOUT, ImportProvider } from './import-provider';
import { ErrorCodes, PRIMARY_LOOKUP_RESOURCE_TYPE, PrimaryLookupAttributes, PrimaryLookupProperties } from './private/contract';
import { ByokError } from './private/errors';
import { partitionOf } from './private/import-rules';
import { stackPartition } from './private/key-import';

/**
 * The multi-Region primary key an `ExternalKeyReplica` replicates: an `ExternalKey` with
 * `multiRegion: true` in another region of the same partition.
 */
export abstract class PrimaryKey {
  /**
   * The primary key by its ARN, e.g. `arn:aws:kms:us-east-1:111122223333:key/mrk-...`.
   */
  public static fromKeyArn(keyArn: string): PrimaryKey {
    return new ArnPrimaryKey(keyArn, undefined);
  }

  /**
   * The primary key as a construct, e.g. the `ExternalKey` of another stack or
   * `kms.Key.fromKeyArn(...)`. Its region is the key's own (`key.env.region`). An `ExternalKey`
   * of a stack in another region is referenced across regions, which CDK allows only with
   * `crossRegionReferences: true` on the replica's stack; `PrimaryKey.fromAlias` needs no reference.
   */
  public static fromKey(key: kms.IKey): PrimaryKey {
    return new ArnPrimaryKey(key.keyArn, key.env.region);
  }

  /**
   * The primary key found at deploy time by its alias in its region: the replica's import
   * function may describe only the key that alias names. Deploy the primary's stack first
   * (`replicaStack.addStackDependency(primaryStack)`).
   *
   * @param region the region of the primary key, e.g. `us-east-1`
   * @param aliasName the alias of the primary key in its region, e.g. `alias/partner-workspace`
   */
  public static fromAlias(region: string, aliasName: string): PrimaryKey {
    return new AliasPrimaryKey(region, aliasName);
  }

  /**
   * The primary key's ARN for the replica declared in `scope`, after checking it can be its primary.
   * @internal
   */
  public abstract _bind(scope: Construct, keySpec: string, keyUsage: string): string;
}

class ArnPrimaryKey extends PrimaryKey {
  constructor(private readonly keyArn: string, private readonly region: string | undefined) {
    super();
  }

  public _bind(scope: Construct): string {
    if (!this.keyArn) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'PrimaryKey.fromKeyArn needs the ARN of the primary key', scope);
    }
    let region = this.region;
    if (!Token.isUnresolved(this.keyArn)) {
      const arn = Arn.split(this.keyArn, ArnFormat.SLASH_RESOURCE_NAME);
      if (arn.service !== 'kms' || arn.resource !== 'key' || !arn.resourceName) {
        throw new ByokError(ErrorCodes.INVALID_PROPERTY, `primary key '${this.keyArn}' is not the ARN of a KMS key (arn:<partition>:kms:<region>:<account>:key/mrk-...)`, scope);
      }
      region = arn.region;
    }
    checkPrimaryRegion(scope, region);
    return this.keyArn;
  }
}

class AliasPrimaryKey extends PrimaryKey {
  constructor(private readonly region: string, private readonly aliasName: string) {
    super();
  }

  public _bind(scope: Construct, keySpec: string, keyUsage: string): string {
    const { region: primaryRegion, aliasName } = this;
    if (!primaryRegion || !aliasName) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'PrimaryKey.fromAlias needs the region and the alias name of the primary key', scope);
    }
    if (!Token.isUnresolved(aliasName) && !/^alias\/[a-zA-Z0-9/_-]+$/.test(aliasName)) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, `primary key alias '${aliasName}' is not an alias name: it starts with 'alias/' followed by letters, digits, '/', '_' or '-'`, scope);
    }
    checkPrimaryRegion(scope, primaryRegion);
    const stack = Stack.of(scope);
    const provider = ImportProvider.getOrCreate(scope);
    // The primary's key id is unknown until deploy time: any key of the primary region, but only
    // when named by that alias (kms:RequestAlias, docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html).
    // A policy of its own, so that the acknowledged wildcard covers this statement only.
    const anyPrimaryKey = stack.formatArn({ service: 'kms', region: primaryRegion, resource: 'key', resourceName: '*' });
    const policy = new iam.Policy(scope, 'PrimaryLookupPolicy', {
      roles: [provider.role],
      statements: [new iam.PolicyStatement({
        actions: ['kms:DescribeKey'],
        resources: [anyPrimaryKey],
        conditions: { StringEquals: { 'kms:RequestAlias': aliasName } },
      })],
    });
    // cdk-nag names a wildcard finding by the resource, CloudFormation references written <Ref>.
    Validations.of(policy.node.defaultChild!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagName(stack.resolve(anyPrimaryKey))}]`,
      reason: 'kms:DescribeKey on key/* of the primary region is limited by kms:RequestAlias to the key behind the primary\'s alias; the primary key id is only known at deploy time (found by that alias).',
    });
    const properties: Omit<PrimaryLookupProperties, 'ServiceToken'> = { PrimaryRegion: primaryRegion, AliasName: aliasName, KeySpec: keySpec, KeyUsage: keyUsage };
    const lookup = new CustomResource(scope, 'PrimaryLookup', {
      serviceToken: provider.serviceToken,
      serviceTimeout: IMPORT_SERVICE_TIMEOUT,
      resourceType: PRIMARY_LOOKUP_RESOURCE_TYPE,
      properties,
    });
    lookup.node.addDependency(policy);
    return lookup.getAttString(PrimaryLookupAttributes.ARN);
  }
}

/** KMS replicates a multi-Region key to another region of the same partition only. */
function checkPrimaryRegion(scope: Construct, primaryRegion: string | undefined): void {
  if (primaryRegion === undefined || Token.isUnresolved(primaryRegion)) return;
  const partition = partitionOf(primaryRegion);
  if (partition === undefined) {
    throw new ByokError(ErrorCodes.REGION, `primary key region '${primaryRegion}' is not an AWS region name`, scope);
  }
  const replicaPartition = stackPartition(scope);
  if (replicaPartition === undefined) return;
  const region = Stack.of(scope).region;
  if (primaryRegion === region) {
    throw new ByokError(ErrorCodes.REGION, `a replica must be in another region than its primary (both are in ${primaryRegion})`, scope);
  }
  if (replicaPartition !== partition) {
    throw new ByokError(ErrorCodes.REGION, `a replica must be in the partition of its primary: the primary is in ${primaryRegion} (${partition}), the replica in ${region} (${replicaPartition})`, scope);
  }
}

/** A resolved value as cdk-nag writes it in a finding id: Fn::Join flattened, `{ Ref: X }` as `<X>`. */
function nagName(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(nagName).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}
