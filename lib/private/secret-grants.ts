import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SECRET_READ_ACTIONS } from './perms';

/** A secret imported by name has a partial ARN; IAM needs the 6-character suffix wildcard. */
export function secretArnForPolicy(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/** What the import handler needs to read a secret: its value, and its customer managed key if any. */
export function secretReadStatements(secret: secretsmanager.ISecret): iam.PolicyStatement[] {
  const statements = [new iam.PolicyStatement({ actions: SECRET_READ_ACTIONS, resources: [secretArnForPolicy(secret)] })];
  if (secret.encryptionKey) {
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [secret.encryptionKey.keyArn] }));
  }
  return statements;
}
