import { CustomResource, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';
import { ErrorCodes, IMPORT_RESOURCE_TYPE, ImportAttributes, ImportResourceProperties, RenewalEvent } from './contract';
import { ByokError } from './errors';
import { checkImportCombination, defaultWrapping, IMPORTABLE_KEY_SPECS, partitionOf } from './import-rules';
import { DELETE_MATERIAL_ACTIONS, IMPORT_ACTIONS, ROTATE_ACTIONS } from './perms';
import { renewalPlan } from './renewal-schedule';
import { KeyMaterialExpiration } from '../expiration';
import { IMPORT_SERVICE_TIMEOUT, ImportProvider } from '../import-provider';
import type { ExternalKeyOptions } from '../key-base';

/**
 * The partition of the stack the key is in, from its region; undefined in an environment-agnostic
 * stack (the handler checks again at deploy time). A region that is no AWS region name fails the synth.
 */
export function stackPartition(key: IConstruct): string | undefined {
  const region = Stack.of(key).region;
  if (Token.isUnresolved(region)) return undefined;
  const partition = partitionOf(region);
  if (partition === undefined) {
    throw new ByokError(ErrorCodes.REGION, `region '${region}' is not an AWS region name`, key);
  }
  return partition;
}

/** What a key class hands to its import. */
export interface KeyImportProps {
  /** The key resource the key class declared: a primary key or a multi-Region replica. */
  readonly resource: kms.CfnKey | kms.CfnReplicaKey;
  /** The key policy the resource was declared with; the import adds the partners' and its own statements. */
  readonly policy: iam.PolicyDocument;
  /** The key's spec and usage (a replica's are its primary's, as the user declared them). */
  readonly keySpec: string;
  readonly keyUsage: string;
  /** The user's options. */
  readonly options: ExternalKeyOptions;
  /** Rotate to new material on demand (primary keys only). */
  readonly rotateOnNewMaterial?: boolean;
}

/**
 * The import of key material into one key (an `ExternalKey` or an `ExternalKeyReplica`): it checks
 * the spec, usage, wrapping, partition and region, writes the partners' and the import function's
 * statements into the key policy, grants the function the reads of the material source, and
 * declares the import custom resource and its renewal schedule.
 *
 * It declares its resources directly under the key (`Import`, `Renewal`), not under a construct of
 * its own, so that their construct paths and logical ids are those of every earlier version: a new
 * path would replace the import resource of every deployed key.
 */
export class KeyImport {
  /** The import custom resource; its attributes are the key's public identity. */
  public readonly resource: CustomResource;
  /** The key ARN, once the material is imported. */
  public readonly keyArn: string;
  /** The key id, once the material is imported. */
  public readonly keyId: string;
  /** The id of the material the last import made current (symmetric keys only, else empty). */
  public readonly keyMaterialId: string;

  constructor(key: Construct, props: KeyImportProps) {
    const { options, keySpec, keyUsage, policy } = props;
    const replica = props.resource instanceof kms.CfnReplicaKey;
    const multiRegion = props.resource instanceof kms.CfnKey && props.resource.multiRegion === true;

    // The checks that hold for any imported key.
    const partition = stackPartition(key);
    const kind = IMPORTABLE_KEY_SPECS[keySpec]?.kind ?? 'SYMMETRIC';
    const defaults = defaultWrapping(kind);
    const wrappingAlgorithm = options.wrappingAlgorithm ?? defaults.wrappingAlgorithm;
    const wrappingKeySpec = options.wrappingKeySpec ?? defaults.wrappingKeySpec;
    const violation = checkImportCombination({ keySpec, keyUsage, wrappingAlgorithm, wrappingKeySpec, partition });
    if (violation) throw new ByokError(violation.code, violation.message, key);
    const pendingDays = options.pendingWindow?.toDays();
    if (pendingDays !== undefined && (pendingDays < 7 || pendingDays > 30)) {
      throw new ByokError(ErrorCodes.PENDING_WINDOW, `pendingWindow of ${pendingDays} days is not valid: KMS accepts 7 to 30 days`, key);
    }
    if (props.rotateOnNewMaterial && (kind !== 'SYMMETRIC' || multiRegion)) {
      throw new ByokError(ErrorCodes.ROTATION, `rotateOnNewMaterial is only possible for single-Region SYMMETRIC_DEFAULT keys; KMS lets a ${multiRegion ? 'multi-Region' : keySpec} key hold only the material first imported into it through this library`, key);
    }
    const expirationProps = (options.expiration ?? KeyMaterialExpiration.never())._bind(key);
    if (options.renewEvery) {
      const validFor = Number(expirationProps.ValidForSeconds ?? 0);
      if (!expirationProps.ValidForSeconds || options.renewEvery.toSeconds() >= validFor) {
        throw new ByokError(ErrorCodes.EXPIRATION, `renewEvery (${options.renewEvery.toHumanString()}) needs expiration: KeyMaterialExpiration.after(d) with d longer than the renewal period${validFor ? ` (it is ${validFor / 86400} days)` : ''}`, key);
      }
    }

    // The key policy: the partners' statements, then the import function's.
    for (const partner of options.partners ?? []) {
      policy.addStatements(...partner._statements(key, keySpec, keyUsage));
    }
    const material = options.material._bind(key, kind);
    const provider = ImportProvider._forImport(key, material, options.importProvider);
    // The handler's KMS permissions are in this key's own policy: they name this key only ("*" in
    // a key policy is the key itself), live and die with the key (so a Delete that shreds the
    // material still has them), and do not add up in the shared role's inline policy, which IAM
    // limits to 10,240 characters per role (about 25 keys' worth of per-key policies).
    policy.addStatements(new iam.PolicyStatement({
      sid: 'AllowKeyMaterialImportByCdkKmsByok',
      principals: [provider.role],
      actions: [
        ...IMPORT_ACTIONS,
        ...(options.deleteMaterialOnRemoval ? DELETE_MATERIAL_ACTIONS : []),
        ...(props.rotateOnNewMaterial ? ROTATE_ACTIONS : []),
      ],
      resources: ['*'],
    }));
    // Reading the material source is an identity permission on the role, on exact ARNs; keys that
    // share a secret share the statement.
    const granted = material.statements.map((statement) => provider.role.addToPrincipalPolicy(statement).policyDependable);

    const properties: Omit<ImportResourceProperties, 'ServiceToken'> = {
      KeyArn: props.resource.attrArn,
      KeySpec: keySpec,
      KeyUsage: keyUsage,
      WrappingAlgorithm: wrappingAlgorithm,
      WrappingKeySpec: wrappingKeySpec,
      Material: material.source,
      Expiration: expirationProps,
      DeleteMaterialOnRemoval: options.deleteMaterialOnRemoval ? 'true' : undefined,
      RotateOnNewMaterial: props.rotateOnNewMaterial ? 'true' : undefined,
      Replica: replica ? 'true' : undefined,
    };
    this.resource = new CustomResource(key, 'Import', {
      serviceToken: provider.serviceToken,
      serviceTimeout: IMPORT_SERVICE_TIMEOUT,
      resourceType: IMPORT_RESOURCE_TYPE,
      properties,
    });
    // The handler's permissions must exist before it runs (the key policy does: KeyArn).
    for (const dependable of granted) if (dependable) this.resource.node.addDependency(dependable);
    this.keyArn = this.resource.getAttString(ImportAttributes.KEY_ARN);
    this.keyId = this.resource.getAttString(ImportAttributes.KEY_ID);
    this.keyMaterialId = this.resource.getAttString(ImportAttributes.KEY_MATERIAL_ID);

    if (options.renewEvery) {
      const plan = renewalPlan(options.renewEvery, provider._nextRenewalSlot(), Stack.of(key).node.path);
      const renewal: RenewalEvent = {
        source: 'cdk-kms-byok', action: 'renew', properties: { ServiceToken: provider.serviceToken, ...properties },
        renewAfterSeconds: plan.renewAfterSeconds === undefined ? undefined : String(plan.renewAfterSeconds),
      };
      const rule = new events.Rule(key, 'Renewal', {
        description: `Re-imports the key material of ${key.node.path} before it expires`,
        schedule: plan.schedule,
        targets: [new targets.LambdaFunction(provider.function, { event: events.RuleTargetInput.fromObject(renewal), retryAttempts: 4 })],
      });
      // Renew only a key that has been imported, with the permissions in place.
      rule.node.addDependency(this.resource);
    }
  }
}
