import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { ErrorCodes } from './contract';
import { ByokError } from './errors';
import { SECRET_READ_ACTIONS } from './perms';

/** A secret imported by name has a partial ARN; IAM needs the 6-character suffix wildcard. */
export function secretArnForPolicy(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/**
 * What the import handler needs to read a secret: its value (only the pinned version, if one is
 * pinned: docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html,
 * `secretsmanager:VersionId`), and its customer managed key if any.
 */
export function secretReadStatements(secret: secretsmanager.ISecret, versionId?: string): iam.PolicyStatement[] {
  const statements = [secretValueStatement(secret, versionId)];
  if (secret.encryptionKey) {
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [secret.encryptionKey.keyArn] }));
  }
  return statements;
}

/**
 * A secret of another stack can be referenced only through a CloudFormation export, which works
 * within one account and region. Otherwise its ARN must be known as a plain value.
 */
export function checkSecretIsReachable(secret: secretsmanager.ISecret, scope: IConstruct): void {
  const secretStack = Stack.of(secret);
  const keyStack = Stack.of(scope);
  if (secretStack === keyStack || !Token.isUnresolved(secret.secretArn)) return;
  const known = (v: string) => (Token.isUnresolved(v) ? 'an unknown region/account' : v);
  if (Token.isUnresolved(secretStack.region) || Token.isUnresolved(keyStack.region) || secretStack.region !== keyStack.region
    || Token.isUnresolved(secretStack.account) || secretStack.account !== keyStack.account) {
    throw new ByokError(ErrorCodes.MATERIAL_SOURCE, `secret ${secret.node.path} is in stack ${secretStack.stackName} (${known(secretStack.region)}, ${known(secretStack.account)}) and has no usable ARN in stack ${keyStack.stackName} (${known(keyStack.region)}, ${known(keyStack.account)}); CloudFormation cannot reference it across regions or accounts, so pass its full ARN with Secret.fromSecretCompleteArn`, scope);
  }
}

/** `secretsmanager:GetSecretValue` on one secret, limited to the pinned version if there is one. */
export function secretValueStatement(secret: secretsmanager.ISecret, versionId?: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: SECRET_READ_ACTIONS,
    resources: [secretArnForPolicy(secret)],
    conditions: versionId ? { StringEquals: { 'secretsmanager:VersionId': versionId } } : undefined,
  });
}
