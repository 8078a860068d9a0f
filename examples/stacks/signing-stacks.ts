import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ExternalKey, KeyMaterial, PartnerAccess } from '../../lib';

export interface SigningStackProps extends StackProps {
  /** Full ARN of the secret holding the key material. */
  readonly materialSecretArn: string;
  /** The partner that signs or verifies. */
  readonly partnerAccountId: string;
}

/**
 * An HMAC key a partner uses to sign (GenerateMac) and verify (VerifyMac) messages, with material
 * you hold (base64, e.g. `openssl rand -base64 64`).
 */
export class HmacSigningStack extends Stack {
  constructor(scope: Construct, id: string, props: SigningStackProps) {
    super(scope, id, props);
    const key = new ExternalKey(this, 'MacKey', {
      material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(this, 'Material', props.materialSecretArn)),
      keySpec: kms.KeySpec.HMAC_512,
      alias: 'alias/partner-mac',
      partners: [PartnerAccess.account(props.partnerAccountId)],
    });
    new CfnOutput(this, 'KeyArn', { value: key.keyArn });
  }
}

/**
 * An RSA signing key from a PEM private key you hold (`openssl genpkey -algorithm RSA
 * -pkeyopt rsa_keygen_bits:3072`), used by your own signer role and verified by the partner.
 */
export class RsaSigningStack extends Stack {
  constructor(scope: Construct, id: string, props: SigningStackProps) {
    super(scope, id, props);
    const key = new ExternalKey(this, 'SigningKey', {
      material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(this, 'Material', props.materialSecretArn)),
      keySpec: kms.KeySpec.RSA_3072,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      alias: 'alias/release-signing',
      partners: [PartnerAccess.account(props.partnerAccountId)],
    });
    const signer = new iam.Role(this, 'Signer', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    key.grantSign(signer);
    new CfnOutput(this, 'KeyArn', { value: key.keyArn });
  }
}
