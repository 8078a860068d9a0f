import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, KeyMaterial } from '../../lib';
import { roleStatements, SECRET_ARN, stackWithSecret } from './helpers';

const CMK_ARN = 'arn:aws:kms:us-east-1:111122223333:key/secret-cmk';

describe('KeyMaterial.fromSecret', () => {
  test('a secret encrypted with a customer managed key lets the handler decrypt with that key only', () => {
    const { stack } = stackWithSecret();
    const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Encrypted', { secretCompleteArn: SECRET_ARN, encryptionKey: kms.Key.fromKeyArn(stack, 'Cmk', CMK_ARN) });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const kmsStatements = roleStatements(stack).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: CMK_ARN, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } } }]);
  });

  test('a secret of another account needs its key: without one synth fails with SecretEncryptionKey; the encryptionKey option grants kms:Decrypt via Secrets Manager in the secret\'s region', () => {
    const other = 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-AbCdEf';
    const otherKey = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { stack } = stackWithSecret();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Shared', other);
    expect(() => new ExternalKey(stack, 'NoKey', { material: KeyMaterial.fromSecret(secret) })).toThrow(/^\[SecretEncryptionKey\] the material secret .* is in account 444455556666, not 111122223333/);
    const { stack: ok } = stackWithSecret();
    new ExternalKey(ok, 'Key', { material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(ok, 'Shared', other), { encryptionKey: kms.Key.fromKeyArn(ok, 'SharedKey', otherKey) }) });
    const kmsStatements = roleStatements(ok).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kms:')));
    expect(kmsStatements).toEqual([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: otherKey, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } } }]);
  });

  test('asymmetric material leaves the encoding to the secret (the handler reads a SecretString as PEM), and versionStage is passed on', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret, { versionStage: 'AWSPENDING' }), keySpec: kms.KeySpec.ECC_NIST_P256 });
    Template.fromStack(stack).hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, VersionStage: 'AWSPENDING' } });
  });

  test('a secret of an environment-agnostic stack, used in another stack, is refused naming the unknown environment', () => {
    const app = new App();
    const secretStack = new Stack(app, 'Secrets');
    const keyStack = new Stack(app, 'Keys', { env: { account: '111122223333', region: 'us-east-1' } });
    const secret = new secretsmanager.Secret(secretStack, 'Material');
    expect(() => new ExternalKey(keyStack, 'Key', { material: KeyMaterial.fromSecret(secret) }))
      .toThrow('[MaterialSource] secret Secrets/Material is in stack Secrets (an unknown region/account, an unknown region/account) and has no usable ARN in stack Keys (us-east-1, 111122223333)');
  });
});
