import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ExternalKey, KeyMaterial } from '../../lib';

export interface EmbeddedStackProps extends StackProps {
  /** Full ARN of the secret holding the key material (base64). */
  readonly materialSecretArn: string;
}

/**
 * An imported key embedded in a larger stack: a bucket, a table and a queue encrypted with it, and
 * a function granted decrypt. Every one of them is created after the key holds its material.
 */
export class EmbeddedStack extends Stack {
  constructor(scope: Construct, id: string, props: EmbeddedStackProps) {
    super(scope, id, props);
    const key = new ExternalKey(this, 'DataKey', {
      material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(this, 'Material', props.materialSecretArn)),
      alias: 'alias/app-data',
    });
    const bucket = new s3.Bucket(this, 'Documents', { encryptionKey: key, enforceSSL: true });
    const table = new dynamodb.TableV2(this, 'Records', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(key),
    });
    const queue = new sqs.Queue(this, 'Events', { encryptionMasterKey: key, enforceSSL: true });
    const worker = new lambda.Function(this, 'Worker', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
      environment: { BUCKET: bucket.bucketName, TABLE: table.tableName, QUEUE: queue.queueUrl },
    });
    key.grantDecrypt(worker);
    new CfnOutput(this, 'KeyArn', { value: key.keyArn });
  }
}
