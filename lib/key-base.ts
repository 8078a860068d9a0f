import { Duration, RemovalPolicy, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KeyMaterialExpiration } from './expiration';
import { ImportProvider } from './import-provider';
import { KeyMaterial } from './key-material';
import { PartnerAccess } from './partner-access';
import { ErrorCodes } from './private/contract';
import { ByokError } from './private/errors';
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

/**
 * A KMS key with imported material, as a `kms.IKey`: its key policy (the account root's statement
 * and the user's), grants, aliases, and the expiry metric and alarm. The key classes declare the
 * key resource and its import; `keyArn`/`keyId` come from the import, so users of the key wait for it.
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
}
