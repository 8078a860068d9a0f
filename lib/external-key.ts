import { CustomResource, Duration, RemovalPolicy, Resource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KeyMaterialExpiration } from './expiration';
import { ImportProvider } from './import-provider';
import { KeyMaterial } from './key-material';
import { PartnerAccess } from './partner-access';
import { ErrorCodes, IMPORT_RESOURCE_TYPE, ImportAttributes, ImportResourceProperties, RenewalEvent } from './private/contract';
import { ByokError } from './private/errors';
import { checkImportCombination, defaultWrapping, IMPORTABLE_KEY_SPECS, partitionOf } from './private/import-rules';
import { DELETE_MATERIAL_ACTIONS, IMPORT_ACTIONS, ROTATE_ACTIONS } from './private/perms';
import { WrappingAlgorithm, WrappingKeySpec } from './wrapping';

/** Options for the alarm on the material's expiry. */
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
}

/** Properties of an {@link ExternalKey}. */
export interface ExternalKeyProps {
  /** Where the key material comes from, e.g. `KeyMaterial.fromSecret(secret)`. */
  readonly material: KeyMaterial;

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
   * Accounts (typically a SaaS vendor's) that may use the key.
   *
   * @default - no other account
   */
  readonly partners?: PartnerAccess[];

  /**
   * An alias for the key, e.g. `alias/bluescape-workspace`. It points at the key once the
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
   *
   * @default - no renewal: the material expires unless you deploy again
   */
  readonly renewEvery?: Duration;

  /**
   * An alarm on `AWS/KMS SecondsUntilKeyMaterialExpiration` for this key. Only with an expiring
   * material; it also fires when the metric stops (the material has expired or was deleted).
   *
   * @default - no alarm
   */
  readonly expirationAlarm?: ExpirationAlarmOptions;

  /**
   * Rotate to new material (KMS on-demand rotation of imported material) when the material
   * reference changes to material the key does not hold. Symmetric keys only; data encrypted
   * under earlier material still decrypts.
   *
   * @default false - new material is refused, so that a wrong secret never replaces the key's material
   */
  readonly rotateOnNewMaterial?: boolean;

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
   * What happens to the KMS key when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
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

  /**
   * Create a multi-Region primary key.
   *
   * @default false
   */
  readonly multiRegion?: boolean;

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
export class ExternalKey extends Resource implements kms.IKey {
  public readonly keyArn: string;
  public readonly keyId: string;
  /** The id of the key material the last import made current (symmetric keys only, else empty). */
  public readonly keyMaterialId: string;
  /** The key spec. */
  public readonly keySpec: kms.KeySpec;
  /** The key usage. */
  public readonly keyUsage: kms.KeyUsage;
  /** The CloudFormation key resource, for escape hatches. */
  public readonly cfnKey: kms.CfnKey;
  /** The alarm on the material's expiry, if one was asked for. */
  public readonly expirationAlarm?: cloudwatch.Alarm;

  private readonly policy: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: ExternalKeyProps) {
    super(scope, id);
    const keySpec = props.keySpec ?? kms.KeySpec.SYMMETRIC_DEFAULT;
    const spec = IMPORTABLE_KEY_SPECS[keySpec];
    const keyUsage = props.keyUsage ?? (spec?.usages[0] as kms.KeyUsage | undefined) ?? kms.KeyUsage.ENCRYPT_DECRYPT;
    const kind = spec?.kind ?? 'SYMMETRIC';
    const defaults = defaultWrapping(kind);
    const wrappingAlgorithm = props.wrappingAlgorithm ?? defaults.wrappingAlgorithm;
    const wrappingKeySpec = props.wrappingKeySpec ?? defaults.wrappingKeySpec;
    const stack = Stack.of(this);

    if (props.enableKeyRotation) {
      throw new ByokError(ErrorCodes.ROTATION_NOT_ALLOWED, 'enableKeyRotation cannot be true: KMS does not rotate imported key material automatically; rotate by importing new material (see the README, "Lifecycle")', this);
    }
    const violation = checkImportCombination({
      keySpec, keyUsage, wrappingAlgorithm, wrappingKeySpec,
      partition: Token.isUnresolved(stack.region) ? undefined : partitionOf(stack.region),
    });
    if (violation) throw new ByokError(violation.code, violation.message, this);
    if (!Token.isUnresolved(stack.region) && partitionOf(stack.region) === undefined) {
      throw new ByokError(ErrorCodes.REGION, `region '${stack.region}' is not an AWS region name`, this);
    }
    const pendingDays = props.pendingWindow?.toDays();
    if (pendingDays !== undefined && (pendingDays < 7 || pendingDays > 30)) {
      throw new ByokError(ErrorCodes.PENDING_WINDOW, `pendingWindow of ${pendingDays} days is not valid: KMS accepts 7 to 30 days`, this);
    }

    this.keySpec = keySpec;
    this.keyUsage = keyUsage;
    this.policy = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        sid: 'EnableIAMUserPermissions',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:*'],
        resources: ['*'],
      })],
    });
    for (const partner of props.partners ?? []) {
      this.policy.addStatements(...partner._statements(this, keyUsage));
    }

    this.cfnKey = new kms.CfnKey(this, 'Resource', {
      origin: 'EXTERNAL',
      keySpec,
      keyUsage,
      description: props.description,
      keyPolicy: this.policy,
      multiRegion: props.multiRegion,
      pendingWindowInDays: pendingDays,
    });
    this.cfnKey.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);
    // cdk-nag's KMS5 asks every symmetric key for automatic rotation, which KMS does not allow
    // for imported material (it is rotated on demand with new material instead).
    Validations.of(this.cfnKey).acknowledge({
      id: 'AwsSolutions-KMS5',
      reason: 'KMS cannot rotate imported (EXTERNAL origin) key material automatically; EnableKeyRotation must stay unset. Rotate by importing new material on demand.',
    });

    const expiration = props.expiration ?? KeyMaterialExpiration.never();
    if (props.rotateOnNewMaterial && kind !== 'SYMMETRIC') {
      throw new ByokError(ErrorCodes.ROTATION, `rotateOnNewMaterial is only possible for SYMMETRIC_DEFAULT keys; KMS lets a ${keySpec} key hold only the material first imported into it`, this);
    }
    if (props.expirationAlarm && !expiration.expires) {
      throw new ByokError(ErrorCodes.EXPIRATION, 'expirationAlarm needs an expiring material: set expiration to KeyMaterialExpiration.after() or .at()', this);
    }
    const expirationProps = expiration._bind(this);
    if (props.renewEvery) {
      const validFor = Number(expirationProps.ValidForSeconds ?? 0);
      if (!expirationProps.ValidForSeconds || props.renewEvery.toSeconds() >= validFor) {
        throw new ByokError(ErrorCodes.EXPIRATION, `renewEvery (${props.renewEvery.toHumanString()}) needs expiration: KeyMaterialExpiration.after(d) with d longer than the renewal period${validFor ? ` (it is ${validFor / 86400} days)` : ''}`, this);
      }
    }

    const provider = ImportProvider.getOrCreate(this);
    const material = props.material._bind(this, kind);
    const importPolicy = new iam.Policy(this, 'ImportPolicy', {
      roles: [provider.role],
      statements: [
        new iam.PolicyStatement({
          actions: [
            ...IMPORT_ACTIONS,
            ...(props.deleteMaterialOnRemoval ? DELETE_MATERIAL_ACTIONS : []),
            ...(props.rotateOnNewMaterial ? ROTATE_ACTIONS : []),
          ],
          resources: [this.cfnKey.attrArn],
        }),
        ...material.statements,
      ],
    });

    const properties: Omit<ImportResourceProperties, 'ServiceToken'> = {
      KeyArn: this.cfnKey.attrArn,
      KeySpec: keySpec,
      KeyUsage: keyUsage,
      WrappingAlgorithm: wrappingAlgorithm,
      WrappingKeySpec: wrappingKeySpec,
      Material: material.source,
      Expiration: expirationProps,
      DeleteMaterialOnRemoval: props.deleteMaterialOnRemoval ? 'true' : undefined,
      RotateOnNewMaterial: props.rotateOnNewMaterial ? 'true' : undefined,
    };
    const importResource = new CustomResource(this, 'Import', {
      serviceToken: provider.serviceToken,
      resourceType: IMPORT_RESOURCE_TYPE,
      properties,
    });
    // The handler's permissions must exist before it runs, and stay until its Delete has run.
    importResource.node.addDependency(importPolicy);

    this.keyArn = importResource.getAttString(ImportAttributes.KEY_ARN);
    this.keyId = importResource.getAttString(ImportAttributes.KEY_ID);
    this.keyMaterialId = importResource.getAttString(ImportAttributes.KEY_MATERIAL_ID);

    if (props.renewEvery) {
      const renewal: RenewalEvent = { source: 'cdk-kms-byok', action: 'renew', properties: { ServiceToken: provider.serviceToken, ...properties } };
      const rule = new events.Rule(this, 'Renewal', {
        description: `Re-imports the key material of ${this.node.path} before it expires`,
        schedule: events.Schedule.rate(props.renewEvery),
        targets: [new targets.LambdaFunction(provider.function, { event: events.RuleTargetInput.fromObject(renewal), retryAttempts: 4 })],
      });
      // Renew only a key that has been imported, with the permissions in place.
      rule.node.addDependency(importResource);
    }
    if (props.expirationAlarm) {
      const threshold = props.expirationAlarm.threshold ?? Duration.days(30);
      this.expirationAlarm = new cloudwatch.Alarm(this, 'ExpirationAlarm', {
        alarmDescription: `The imported key material of ${this.node.path} expires within ${threshold.toHumanString()}, or has expired`,
        // docs.aws.amazon.com/kms/latest/developerguide/monitoring-cloudwatch.html
        metric: new cloudwatch.Metric({
          namespace: 'AWS/KMS',
          metricName: 'SecondsUntilKeyMaterialExpiration',
          dimensionsMap: { KeyId: this.keyId },
          statistic: cloudwatch.Stats.MINIMUM,
          period: Duration.hours(1),
        }),
        threshold: threshold.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // KMS stops publishing the metric once the material has expired: that is the worst case.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      if (props.expirationAlarm.topic) {
        const action = new cw_actions.SnsAction(props.expirationAlarm.topic);
        this.expirationAlarm.addAlarmAction(action);
        this.expirationAlarm.addOkAction(action);
      }
    }

    if (props.alias) this.addAlias(props.alias);
    for (const admin of props.admins ?? []) this.grantAdmin(admin);
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
    return { statementAdded: true, policyDependable: this.cfnKey };
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

  private get grants(): kms.KeyGrants {
    // The account root statement trusts IAM, so same-account grants go to identity policies only.
    return kms.KeyGrants.fromKey(this, true);
  }
}
