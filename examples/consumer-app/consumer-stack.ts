import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ExternalKey, KeyMaterial } from '../../lib';

export interface ConsumerStackProps extends StackProps {
  /** Full ARN of the secret that holds the key material (base64, e.g. `openssl rand -base64 32`). */
  readonly materialSecretArn: string;
}

/** A bucket encrypted with a key whose material you bring, and a function allowed to read it. */
export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props: ConsumerStackProps) {
    super(scope, id, props);
    const secret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Material', props.materialSecretArn);
    const key = new ExternalKey(this, 'DataKey', { material: KeyMaterial.fromSecret(secret), alias: 'alias/consumer-data' });
    const bucket = new s3.Bucket(this, 'Data', { encryptionKey: key, enforceSSL: true });
    const reader = new lambda.Function(this, 'Reader', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => process.env.BUCKET;'),
      environment: { BUCKET: bucket.bucketName },
    });
    bucket.grantRead(reader); // s3:GetObject*, and kms:Decrypt on the key
    new CfnOutput(this, 'KeyArn', { value: key.keyArn });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
  }
}
