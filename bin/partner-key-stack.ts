import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ExternalKey, KeyMaterial, PartnerAccess } from '../lib';

export interface PartnerKeyStackProps extends StackProps {
  /** The SaaS vendor's AWS account id (Bluescape's, in the classic case). */
  readonly partnerAccountId: string;
  /** The secret holding the base64 key material: a full ARN, or a name in the stack's region. */
  readonly secretArn?: string;
  readonly secretName?: string;
  /** Alias for the key, e.g. alias/bluescape-workspace. */
  readonly alias?: string;
}

/**
 * The Bluescape-style BYOK setup: one symmetric key with imported material, usable by the
 * partner's account, and its ARN as an output to hand to the partner.
 */
export class PartnerKeyStack extends Stack {
  public readonly key: ExternalKey;

  constructor(scope: Construct, id: string, props: PartnerKeyStackProps) {
    super(scope, id, props);
    const secret = props.secretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Material', props.secretArn)
      : secretsmanager.Secret.fromSecretNameV2(this, 'Material', props.secretName ?? 'byok/key-material');
    this.key = new ExternalKey(this, 'PartnerKey', {
      material: KeyMaterial.fromSecret(secret),
      alias: props.alias,
      description: `BYOK key for partner account ${props.partnerAccountId}`,
      partners: [PartnerAccess.account(props.partnerAccountId)],
    });
    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn, description: 'Hand this ARN to the partner' });
  }
}
