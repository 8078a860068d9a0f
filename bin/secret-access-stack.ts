import { Arn, ArnFormat, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * What the owner of a material secret adds so that import roles in other accounts can read it
 * (docs/cross-account-secrets.md; "Access AWS Secrets Manager secrets from a different account"):
 * a resource policy on the secret, and a key policy statement on the customer managed key that
 * encrypts it.
 */
export function secretReadPolicy(readerAccounts: string[], partition = 'aws'): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'ByokImportRolesReadTheMaterial',
      Effect: 'Allow',
      // The account (root) delegates to its IAM policies: only roles granted GetSecretValue on this
      // secret there, such as the import role, can read it.
      Principal: { AWS: readerAccounts.map((a) => `arn:${partition}:iam::${a}:root`) },
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
    }],
  };
}

/** The statement to add to the key policy of the secret's customer managed key. */
export function secretKeyPolicyStatement(readerAccounts: string[], secretRegion: string, partition = 'aws'): Record<string, unknown> {
  return {
    Sid: 'ByokImportRolesDecryptTheMaterialThroughSecretsManager',
    Effect: 'Allow',
    Principal: { AWS: readerAccounts.map((a) => `arn:${partition}:iam::${a}:root`) },
    Action: 'kms:Decrypt',
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${secretRegion}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}` } },
  };
}

export interface SecretAccessStackProps extends StackProps {
  /** The full ARN of the material secret (in this stack's account and region). */
  readonly secretArn: string;
  /** The accounts whose import roles read it. */
  readonly readerAccounts: string[];
}

/**
 * In the secret's own account and region: the resource policy that lets the other accounts'
 * import roles read the secret, and, as an output, the key policy statement to add to the
 * secret's key (CloudFormation cannot change the policy of a key it did not create).
 */
export class SecretAccessStack extends Stack {
  constructor(scope: Construct, id: string, props: SecretAccessStackProps) {
    super(scope, id, props);
    const { partition, region } = Arn.split(props.secretArn, ArnFormat.COLON_RESOURCE_NAME);
    new secretsmanager.CfnResourcePolicy(this, 'MaterialSecretPolicy', {
      secretId: props.secretArn,
      resourcePolicy: secretReadPolicy(props.readerAccounts, partition),
      blockPublicPolicy: true,
    });
    new CfnOutput(this, 'KeyPolicyStatement', {
      value: JSON.stringify(secretKeyPolicyStatement(props.readerAccounts, region!, partition)),
      description: 'Add this statement to the key policy of the KMS key that encrypts the material secret',
    });
  }
}
