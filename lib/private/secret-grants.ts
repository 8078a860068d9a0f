import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
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
 * `secretsmanager:VersionId`), and `kms:Decrypt` on its customer managed key through Secrets
 * Manager only (`kms:ViaService`). A secret in another account must
 * name that key: the AWS managed key `aws/secretsmanager` cannot be used across accounts ("Access
 * AWS Secrets Manager secrets from a different account", Secrets Manager User Guide).
 */
export function secretReadStatements(secret: secretsmanager.ISecret, scope: IConstruct, encryptionKey: kms.IKey | undefined, what: string, versionId?: string): iam.PolicyStatement[] {
  const statements = [secretValueStatement(secret, versionId)];
  const key = encryptionKey ?? secret.encryptionKey;
  const stack = Stack.of(scope);
  const arn = Token.isUnresolved(secret.secretArn) ? undefined : Arn.split(secret.secretArn, ArnFormat.COLON_RESOURCE_NAME);
  if (!key && arn?.account && !Token.isUnresolved(stack.account) && arn.account !== stack.account) {
    throw new ByokError(ErrorCodes.SECRET_ENCRYPTION_KEY, `${what} ${secret.secretArn} is in account ${arn.account}, not ${stack.account}: AWS reads a secret across accounts only if it is encrypted with a customer managed KMS key whose key policy lets this account decrypt through Secrets Manager (the aws/secretsmanager key cannot be shared), and the secret's resource policy allows it. Pass that key (Secret.fromSecretAttributes with encryptionKey, or the encryptionKey option); see docs/cross-account-secrets.md`, scope);
  }
  if (key) {
    // Secrets Manager decrypts in the secret's region: secretsmanager.REGION.amazonaws.com ("kms:ViaService", KMS Developer Guide).
    const viaService = arn?.region ? `secretsmanager.${arn.region}.${arn.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}` : `secretsmanager.${stack.region}.${stack.urlSuffix}`;
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn], conditions: { StringEquals: { 'kms:ViaService': viaService } } }));
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
