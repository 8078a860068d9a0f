import { CustomResource, Duration, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KeyMaterialExpiration } from './expiration';
import { IMPORT_SERVICE_TIMEOUT, ImportProvider } from './import-provider';
import { KeyMaterial } from './key-material';
import { PartnerAccess } from './partner-access';
import { ErrorCodes, IMPORT_RESOURCE_TYPE, ImportResourceProperties, RenewalEvent } from './private/contract';
import { ByokError } from './private/errors';
import { checkImportCombination, defaultWrapping, IMPORTABLE_KEY_SPECS, MaterialKind, partitionOf } from './private/import-rules';
import { DELETE_MATERIAL_ACTIONS, IMPORT_ACTIONS, ROTATE_ACTIONS } from './private/perms';
import { renewalPlan } from './private/renewal-schedule';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/** Options for {@link IExternalKey.addExpirationAlarm}. */
export interface ExpirationAlarmOptions {
  /**
   * Alarm when the material expires within this time.
   *
   * @default Duration.days(30)
   */
  readonly threshold?: Duration;

  /**
   * Notify this topic when the alarm fires and when it recovers.
   *
   * @default - no notification
   */
  readonly topic?: sns.ITopic;

  /**
   * The name of the alarm.
   *
   * @default - a name CloudFormation generates
   */
  readonly alarmName?: string;
}

/**
 * A KMS key with imported key material: an `ExternalKey` or an `ExternalKeyReplica`. Besides
 * what every `kms.IKey` does, it measures when its material expires.
 */
export interface IExternalKey extends kms.IKey {
  /**
   * The `AWS/KMS` metric `SecondsUntilKeyMaterialExpiration` of this key: the seconds until its
   * imported material expires. KMS publishes it only for material that expires, and stops once
   * the material has expired or was deleted. The minimum over 1 hour, unless `props` say otherwise.
   *
   * @see https://docs.aws.amazon.com/kms/latest/developerguide/monitoring-cloudwatch.html
   */
  metricSecondsUntilKeyMaterialExpiration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * An alarm that fires when the key material expires within `threshold`, and also when the
   * metric stops (the material has expired or was deleted). Only for a key whose material expires.
   *
   * @param id the construct id of the alarm, under this key
   */
  addExpirationAlarm(id: string, options?: ExpirationAlarmOptions): cloudwatch.Alarm;
}

/** What every key with imported material (a primary key or a replica) is configured with. */
export interface ExternalKeyOptions {
  /** Where the key material comes from, e.g. `KeyMaterial.fromSecret(secret)`. */
  readonly material: KeyMaterial;

  /**
   * The import provider whose function imports the material: one you created to choose its
   * memory, timeout, log retention or HSM connection.
   *
   * @default - the stack's default provider (for `KeyMaterial.fromPkcs11`, the stack's default HSM provider, outside any VPC)
   */
  readonly importProvider?: ImportProvider;

  /**
   * Accounts (typically a SaaS vendor's) that may use the key.
   *
   * @default - no other account
   */
  readonly partners?: PartnerAccess[];

  /**
   * An alias for the key, e.g. `alias/partner-workspace`. It points at the key once the
   * material is imported.
   *
   * @default - no alias
   */
  readonly alias?: string;

  /**
   * A description of the key.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * An initial key policy. Its statements are added to the ones the key always has: the account
   * root's `kms:*` (so that the account cannot be locked out and its IAM policies work for the key),
   * the import function's statements, and the partners'.
   *
   * @default - only the statements the key always has
   */
  readonly policy?: iam.PolicyDocument;

  /**
   * Principals that may administer (but not use) the key, in addition to the account root.
   *
   * @default - the account root only
   */
  readonly admins?: iam.IPrincipal[];

  /**
   * When the imported material expires.
   *
   * @default KeyMaterialExpiration.never()
   */
  readonly expiration?: KeyMaterialExpiration;

  /**
   * Re-import the same material on this schedule, each time with a fresh expiry, so that the
   * key never leaves Enabled. Only with `KeyMaterialExpiration.after()`, and shorter than it.
   * The material is renewed before it is `renewEvery` old: a daily check (hourly under a day) at
   * a minute of the key's own, so that the keys of a stack do not meet KMS's request quota for
   * GetParametersForImport together (docs/decisions/0009-imports-under-request-quotas.md).
   *
   * @default - no renewal: the material expires unless you deploy again
   */
  readonly renewEvery?: Duration;

  /**
   * How the material is wrapped for transport to KMS.
   *
   * @default - RSAES_OAEP_SHA_256 for symmetric, HMAC, ECC and SM2 material; RSA_AES_KEY_WRAP_SHA_256 for RSA material
   */
  readonly wrappingAlgorithm?: WrappingAlgorithm;

  /**
   * Size of the RSA wrapping key KMS generates for each import.
   *
   * @default WrappingKeySpec.RSA_4096
   */
  readonly wrappingKeySpec?: WrappingKeySpec;

  /**
   * What happens to the KMS key when it leaves the stack. The default keeps the key when the
   * stack is deleted or the key is replaced, but deletes it (schedules its deletion) when its
   * own creation rolls back, so that a failed first deploy leaves no live key with material and
   * partner access outside any stack. A retained key keeps its partners' access: see SECURITY.md.
   *
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Delete the imported material (crypto-shredding) when this key leaves the stack, even if the
   * key itself is retained.
   *
   * @default false
   */
  readonly deleteMaterialOnRemoval?: boolean;

  /**
   * Waiting period before a scheduled key deletion, 7 to 30 days.
   *
   * @default Duration.days(30)
   */
  readonly pendingWindow?: Duration;
}

/** What a subclass tells the base about the key it declared. @internal */
export interface KeyImportSetup {
  readonly keyArn: string;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly kind: MaterialKind;
  readonly partition?: string;
  readonly rotateOnNewMaterial?: boolean;
  readonly replica?: boolean;
}

/**
 * A KMS key with imported material: the key policy (account root + partners), the import custom
 * resource with its exact-ARN IAM policy, renewal, expiry metric and alarm, aliases and grants. A
 * `kms.IKey` whose `keyArn`/`keyId` come from the import, so users of the key wait for it.
 */
export abstract class ExternalKeyBase extends Resource implements IExternalKey {
  public abstract readonly keyArn: string;
  public abstract readonly keyId: string;

  /** The key policy. */
  protected readonly policy: iam.PolicyDocument;

  /** Whether the material expires, for the expiry alarm. */
  private readonly materialExpires: boolean;

  protected constructor(scope: Construct, id: string, options: ExternalKeyOptions) {
    super(scope, id);
    // jsii callers and plain JavaScript skip TypeScript's check of required props.
    if (!options?.material) {
      throw new ByokError(ErrorCodes.INVALID_PROPERTY, 'material is required: say where the key material comes from, e.g. KeyMaterial.fromSecret(secret)', this);
    }
    this.policy = options.policy ?? new iam.PolicyDocument();
    this.policy.addStatements(new iam.PolicyStatement({
      sid: 'EnableIAMUserPermissions',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:*'],
      resources: ['*'],
    }));
    this.materialExpires = (options.expiration ?? KeyMaterialExpiration.never()).expires;
    // As kms.Key does: a statement a key policy cannot have (no principal, say) fails the synth.
    this.node.addValidation({ validate: () => this.policy.validateForResourcePolicy() });
  }

  public get keyRef(): kms.KeyReference {
    return { keyId: this.keyId, keyArn: this.keyArn };
  }

  /** Defines an alias for this key. */
  public addAlias(aliasName: string): kms.Alias {
    return new kms.Alias(this, `Alias${aliasName}`, { aliasName, targetKey: this });
  }

  /** Adds a statement to the key policy. */
  public addToResourcePolicy(statement: iam.PolicyStatement, _allowNoOp?: boolean): iam.AddToResourcePolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.node.defaultChild };
  }

  /** Grants the given actions on this key to a principal. */
  public grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return this.grants.actions(grantee, ...actions);
  }

  /** Grants key administration (not use) to a principal. */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.grants.admin(grantee);
  }

  /** Grants decryption. */
  public grantDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.decrypt(grantee);
  }

  /** Grants encryption. */
  public grantEncrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.encrypt(grantee);
  }

  /** Grants encryption and decryption. */
  public grantEncryptDecrypt(grantee: iam.IGrantable): iam.Grant {
    return this.grants.encryptDecrypt(grantee);
  }

  /** Grants signing. */
  public grantSign(grantee: iam.IGrantable): iam.Grant {
    return this.grants.sign(grantee);
  }

  /** Grants signature verification. */
  public grantVerify(grantee: iam.IGrantable): iam.Grant {
    return this.grants.verify(grantee);
  }

  /** Grants signing and verification. */
  public grantSignVerify(grantee: iam.IGrantable): iam.Grant {
    return this.grants.signVerify(grantee);
  }

  /** Grants MAC generation. */
  public grantGenerateMac(grantee: iam.IGrantable): iam.Grant {
    return this.grants.generateMac(grantee);
  }

  /** Grants MAC verification. */
  public grantVerifyMac(grantee: iam.IGrantable): iam.Grant {
    return this.grants.verifyMac(grantee);
  }

  /** Grants `kms:DeriveSharedSecret` (KEY_AGREEMENT keys). */
  public grantDeriveSharedSecret(grantee: iam.IGrantable): iam.Grant {
    return this.grants.actions(grantee, 'kms:DeriveSharedSecret');
  }

  /**
   * The `AWS/KMS` metric `SecondsUntilKeyMaterialExpiration` of this key (minimum over 1 hour
   * unless `props` say otherwise). KMS publishes it only for material that expires.
   */
  public metricSecondsUntilKeyMaterialExpiration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    // docs.aws.amazon.com/kms/latest/developerguide/monitoring-cloudwatch.html
    return new cloudwatch.Metric({
      namespace: 'AWS/KMS',
      metricName: 'SecondsUntilKeyMaterialExpiration',
      dimensionsMap: { KeyId: this.keyId },
      statistic: cloudwatch.Stats.MINIMUM,
      period: Duration.hours(1),
      ...props,
    }).attachTo(this);
  }

  /**
   * An alarm, under this key, that fires when the material expires within `threshold` (default 30
   * days) and when the metric stops (the material has expired or was deleted). Only for a key whose
   * material expires.
   *
   * @param id the construct id of the alarm; `ExpirationAlarm` keeps an alarm deployed by earlier versions
   */
  public addExpirationAlarm(id: string, options: ExpirationAlarmOptions = {}): cloudwatch.Alarm {
    if (!this.materialExpires) {
      throw new ByokError(ErrorCodes.EXPIRATION, 'addExpirationAlarm needs an expiring material: set expiration to KeyMaterialExpiration.after() or .at()', this);
    }
    const threshold = options.threshold ?? Duration.days(30);
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: options.alarmName,
      alarmDescription: `The imported key material of ${this.node.path} expires within ${threshold.toHumanString()}, or has expired`,
      metric: this.metricSecondsUntilKeyMaterialExpiration(),
      threshold: threshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // KMS stops publishing the metric once the material has expired: that is the worst case.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    if (options.topic) {
      const action = new cw_actions.SnsAction(options.topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return alarm;
  }

  private get grants(): kms.KeyGrants {
    // The account root statement trusts IAM, so same-account grants go to identity policies only.
    return kms.KeyGrants.fromKey(this, true);
  }

  /** Checks that hold for any imported key, before its resources are declared. @internal */
  protected _checkOptions(options: ExternalKeyOptions, keySpec: string, keyUsage: string): { wrappingAlgorithm: string; wrappingKeySpec: string; kind: MaterialKind; partition?: string } {
    const region = Stack.of(this).region;
    const partition = Token.isUnresolved(region) ? undefined : partitionOf(region);
    if (!Token.isUnresolved(region) && partition === undefined) {
      throw new ByokError(ErrorCodes.REGION, `region '${region}' is not an AWS region name`, this);
    }
    const kind = IMPORTABLE_KEY_SPECS[keySpec]?.kind ?? 'SYMMETRIC';
    const defaults = defaultWrapping(kind);
    const wrappingAlgorithm = options.wrappingAlgorithm ?? defaults.wrappingAlgorithm;
    const wrappingKeySpec = options.wrappingKeySpec ?? defaults.wrappingKeySpec;
    const violation = checkImportCombination({ keySpec, keyUsage, wrappingAlgorithm, wrappingKeySpec, partition });
    if (violation) throw new ByokError(violation.code, violation.message, this);
    const pendingDays = options.pendingWindow?.toDays();
    if (pendingDays !== undefined && (pendingDays < 7 || pendingDays > 30)) {
      throw new ByokError(ErrorCodes.PENDING_WINDOW, `pendingWindow of ${pendingDays} days is not valid: KMS accepts 7 to 30 days`, this);
    }
    for (const partner of options.partners ?? []) {
      this.policy.addStatements(...partner._statements(this, keySpec, keyUsage));
    }
    return { wrappingAlgorithm, wrappingKeySpec, kind, partition };
  }

  /**
   * Declares the import of the material into the key, and what hangs off it (renewal, alarm,
   * alias, admins). Returns the import resource, whose attributes are the key's public identity.
   * @internal
   */
  protected _setUpImport(options: ExternalKeyOptions, setup: KeyImportSetup, wrapping: { wrappingAlgorithm: string; wrappingKeySpec: string }): CustomResource {
    const expiration = options.expiration ?? KeyMaterialExpiration.never();
    const expirationProps = expiration._bind(this);
    if (options.renewEvery) {
      const validFor = Number(expirationProps.ValidForSeconds ?? 0);
      if (!expirationProps.ValidForSeconds || options.renewEvery.toSeconds() >= validFor) {
        throw new ByokError(ErrorCodes.EXPIRATION, `renewEvery (${options.renewEvery.toHumanString()}) needs expiration: KeyMaterialExpiration.after(d) with d longer than the renewal period${validFor ? ` (it is ${validFor / 86400} days)` : ''}`, this);
      }
    }

    const material = options.material._bind(this, setup.kind);
    const provider = ImportProvider._forImport(this, material, options.importProvider);
    // The handler's KMS permissions are in this key's own policy: they name this key only ("*" in
    // a key policy is the key itself), live and die with the key (so a Delete that shreds the
    // material still has them), and do not add up in the shared role's inline policy, which IAM
    // limits to 10,240 characters per role (about 25 keys' worth of per-key policies).
    this.policy.addStatements(new iam.PolicyStatement({
      sid: 'AllowKeyMaterialImportByCdkKmsByok',
      principals: [provider.role],
      actions: [
        ...IMPORT_ACTIONS,
        ...(options.deleteMaterialOnRemoval ? DELETE_MATERIAL_ACTIONS : []),
        ...(setup.rotateOnNewMaterial ? ROTATE_ACTIONS : []),
      ],
      resources: ['*'],
    }));
    // Reading the material source is an identity permission on the role, on exact ARNs; keys that
    // share a secret share the statement.
    const granted = material.statements.map((statement) => provider.role.addToPrincipalPolicy(statement).policyDependable);
    const properties: Omit<ImportResourceProperties, 'ServiceToken'> = {
      KeyArn: setup.keyArn,
      KeySpec: setup.keySpec,
      KeyUsage: setup.keyUsage,
      WrappingAlgorithm: wrapping.wrappingAlgorithm,
      WrappingKeySpec: wrapping.wrappingKeySpec,
      Material: material.source,
      Expiration: expirationProps,
      DeleteMaterialOnRemoval: options.deleteMaterialOnRemoval ? 'true' : undefined,
      RotateOnNewMaterial: setup.rotateOnNewMaterial ? 'true' : undefined,
      Replica: setup.replica ? 'true' : undefined,
    };
    const importResource = new CustomResource(this, 'Import', {
      serviceToken: provider.serviceToken,
      serviceTimeout: IMPORT_SERVICE_TIMEOUT,
      resourceType: IMPORT_RESOURCE_TYPE,
      properties,
    });
    // The handler's permissions must exist before it runs (the key policy does: KeyArn).
    for (const dependable of granted) if (dependable) importResource.node.addDependency(dependable);

    if (options.renewEvery) {
      const plan = renewalPlan(options.renewEvery, provider._nextRenewalSlot(), Stack.of(this).node.path);
      const renewal: RenewalEvent = {
        source: 'cdk-kms-byok', action: 'renew', properties: { ServiceToken: provider.serviceToken, ...properties },
        renewAfterSeconds: plan.renewAfterSeconds === undefined ? undefined : String(plan.renewAfterSeconds),
      };
      const rule = new events.Rule(this, 'Renewal', {
        description: `Re-imports the key material of ${this.node.path} before it expires`,
        schedule: plan.schedule,
        targets: [new targets.LambdaFunction(provider.function, { event: events.RuleTargetInput.fromObject(renewal), retryAttempts: 4 })],
      });
      // Renew only a key that has been imported, with the permissions in place.
      rule.node.addDependency(importResource);
    }
    return importResource;
  }

  /** Aliases and admins, once keyArn is known. @internal */
  protected _finish(options: ExternalKeyOptions): void {
    if (options.alias) this.addAlias(options.alias);
    for (const admin of options.admins ?? []) this.grantAdmin(admin);
  }
}
