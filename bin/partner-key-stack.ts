import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ExternalKey, ExternalKeyReplica, IExternalKey, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, PartnerAccess, PrimaryKey } from '../lib';

export interface PartnerKeyStackProps extends StackProps {
  /** The SaaS vendors' AWS account ids. */
  readonly partnerAccountIds: string[];
  /** The secret holding the key material: a full ARN (any region), or a name in the stack's region. */
  readonly secretArn?: string;
  readonly secretName?: string;
  /** The customer managed key that encrypts the secret (needed across accounts). @default - aws/secretsmanager */
  readonly secretKeyArn?: string;
  /** Alias for the key, e.g. alias/partner-workspace. */
  readonly alias: string;
  /** Days until the imported material expires. @default - never */
  readonly expirationDays?: number;
  /** How the secret encodes the material. @default - decided by the secret (SecretBinary: raw bytes; SecretString: base64) */
  readonly encoding?: KeyMaterialEncoding;
  /** This stack holds a multi-Region primary key. */
  readonly multiRegionPrimary?: boolean;
  /** This stack holds a replica of the multi-Region primary in this region. */
  readonly replicaOfRegion?: string;
}

/**
 * The SaaS-vendor BYOK setup in one account and region: a symmetric key with imported
 * material (or a replica of a multi-Region one), usable by the partner accounts, and its ARN as
 * an output to hand to the partner.
 */
export class PartnerKeyStack extends Stack {
  public readonly key: IExternalKey;

  constructor(scope: Construct, id: string, props: PartnerKeyStackProps) {
    super(scope, id, props);
    const encryptionKey = props.secretKeyArn ? kms.Key.fromKeyArn(this, 'MaterialKey', props.secretKeyArn) : undefined;
    const secret = props.secretArn
      ? secretsmanager.Secret.fromSecretAttributes(this, 'Material', { secretCompleteArn: props.secretArn, encryptionKey })
      : secretsmanager.Secret.fromSecretNameV2(this, 'Material', props.secretName ?? 'byok/key-material');
    const common = {
      material: KeyMaterial.fromSecret(secret, { encoding: props.encoding }),
      alias: props.alias,
      description: `BYOK key for partner account(s) ${props.partnerAccountIds.join(', ')}`,
      partners: props.partnerAccountIds.map((id) => PartnerAccess.account(id)),
      expiration: props.expirationDays ? KeyMaterialExpiration.after(Duration.days(props.expirationDays)) : undefined,
    };
    this.key = props.replicaOfRegion
      ? new ExternalKeyReplica(this, 'PartnerKey', { ...common, primaryKey: PrimaryKey.fromAlias(props.replicaOfRegion, props.alias) })
      : new ExternalKey(this, 'PartnerKey', { ...common, multiRegion: props.multiRegionPrimary });
    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn, description: `Hand this ARN to the partner (${this.region})` });
  }
}
