import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EmbeddedStack } from '../../examples/stacks/embedded-stack';
import { HmacSigningStack, RsaSigningStack } from '../../examples/stacks/signing-stacks';

const secret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok/key-material-AbCdEf';
const importedArn = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}Import`), 'KeyArn'] });

describe('examples', () => {
  test('a bucket, a table and a queue encrypted with the imported key, and a function granted decrypt, all after the import', () => {
    const t = Template.fromStack(new EmbeddedStack(new App(), 'Embedded', { materialSecretArn: secret, env: { account: '111122223333', region: 'us-east-1' } }));
    t.hasResourceProperties('AWS::S3::Bucket', { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { KMSMasterKeyID: importedArn('DataKey') } }] } });
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS' }, Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: importedArn('DataKey') } })] });
    t.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: importedArn('DataKey') });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Resource: importedArn('DataKey') })]) } });
  });

  test('an HMAC key a partner signs and verifies with', () => {
    const t = Template.fromStack(new HmacSigningStack(new App(), 'Hmac', { materialSecretArn: secret, partnerAccountId: '123456789012' }));
    t.hasResourceProperties('AWS::KMS::Key', {
      KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC',
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowUseOfTheKeyByPartner123456789012', Action: ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'] })]) },
    });
  });

  test('an RSA signing key wrapped with RSA-AES by default, a signer role, and a partner that verifies', () => {
    const stack = new RsaSigningStack(new App(), 'Rsa', { materialSecretArn: secret, partnerAccountId: '123456789012' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' });
    t.hasResourceProperties('Custom::KmsKeyMaterialImport', { WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', Material: Match.objectLike({ Type: 'SecretsManager', Encoding: Match.absent() }) });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: [Match.objectLike({ Action: 'kms:Sign', Resource: importedArn('SigningKey') })] } });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
