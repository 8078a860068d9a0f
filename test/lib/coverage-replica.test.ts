import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKeyReplica, IMPORT_RESOURCE_TYPE, KeyMaterial, WrappingAlgorithm } from '../../lib';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf';

function replicaStack(env?: { account: string; region: string }) {
  const stack = new Stack(new App(), 'Replica', { env });
  const material = KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET));
  return { stack, material };
}

describe('ExternalKeyReplica', () => {
  test('an HMAC replica defaults its usage to the spec\'s and declares the lookup with both', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'us-east-1', primaryAlias: 'alias/mac', keySpec: kms.KeySpec.HMAC_384 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', Replica: 'true', Material: Match.objectLike({ Type: 'SecretsManager' }) });
  });

  test('a replica of a key spec that cannot be imported is refused before anything is declared', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'us-east-1', primaryAlias: 'alias/x', keySpec: kms.KeySpec.ML_DSA_44 }))
      .toThrow(/^\[KeySpecNotImportable\] key spec 'ML_DSA_44' cannot have imported key material: KMS cannot import ML-DSA key material/);
  });

  test('a replica of a key spec KMS does not know falls back to ENCRYPT_DECRYPT and is refused as not importable', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'us-east-1', primaryAlias: 'alias/x', keySpec: 'AES_512' as kms.KeySpec }))
      .toThrow(/^\[KeySpecNotImportable\] key spec 'AES_512' is not a KMS key spec that supports imported key material/);
  });

  test('a primaryRegion that is not a region name is refused', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'virginia', primaryAlias: 'alias/x' }))
      .toThrow(/^\[Region\] primaryRegion 'virginia' is not an AWS region name \(at Replica\/Key\)$/);
  });

  test('in an environment-agnostic stack the replica is declared and partition rules are left to the handler', () => {
    const { stack, material } = replicaStack();
    new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'us-east-1', primaryAlias: 'alias/x', wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: 'us-east-1', AliasName: 'alias/x' });
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
  });

  test('a primaryRegion given as a token is not checked at synth time and scopes the lookup permission', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    const region = new CfnParameter(stack, 'PrimaryRegion').valueAsString;
    new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: region, primaryAlias: 'alias/x' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: { Ref: 'PrimaryRegion' } });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const describe = statements.find((s: any) => s.Action === 'kms:DescribeKey');
    expect(JSON.stringify(describe.Resource)).toContain('{"Ref":"PrimaryRegion"}');
    expect(describe.Condition).toEqual({ StringEquals: { 'kms:RequestAlias': 'alias/x' } });
  });

  test('the lookup waits for the handler\'s DescribeKey permission', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    new ExternalKeyReplica(stack, 'Key', { material, primaryRegion: 'us-east-1', primaryAlias: 'alias/x' });
    const t = Template.fromStack(stack);
    const [policyId] = Object.entries(t.findResources('AWS::IAM::Policy')).find(([, p]: any) => JSON.stringify(p).includes('kms:DescribeKey'))!;
    t.hasResource('Custom::KmsPrimaryKeyLookup', { DependsOn: Match.arrayWith([policyId]) });
  });

  test('description, pending window and removal policy reach the replica key', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'eu-west-1' });
    const key = new ExternalKeyReplica(stack, 'Key', {
      material, primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1', description: 'replica', pendingWindow: Duration.days(7), removalPolicy: RemovalPolicy.DESTROY,
    });
    Template.fromStack(stack).hasResource('AWS::KMS::ReplicaKey', {
      Properties: Match.objectLike({ Description: 'replica', PendingWindowInDays: 7 }), DeletionPolicy: 'Delete',
    });
    expect(stack.resolve(key.keyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyArn'] });
  });
});
