import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, ExternalKeyReplica, IMPORT_RESOURCE_TYPE, KeyMaterial, PartnerAccess } from '../../lib';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf';

function stacks() {
  const app = new App();
  const primary = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'us-east-1' } });
  const replica = new Stack(app, 'Replica', { env: { account: '111122223333', region: 'eu-west-1' } });
  replica.addStackDependency(primary);
  const material = (s: Stack) => KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(s, 'S', SECRET));
  return { primary, replica, material };
}

describe('ExternalKeyReplica', () => {
  test('a multi-Region primary and a replica found by alias, importing the same secret as EXISTING material', () => {
    const { primary, replica, material } = stacks();
    new ExternalKey(primary, 'Key', { material: material(primary), multiRegion: true, alias: 'alias/bluescape' });
    new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryRegion: 'us-east-1', primaryAlias: 'alias/bluescape', alias: 'alias/bluescape', partners: [PartnerAccess.account('123456789012')] });
    Template.fromStack(primary).hasResourceProperties('AWS::KMS::Key', { MultiRegion: true, Origin: 'EXTERNAL' });
    const t = Template.fromStack(replica);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: 'us-east-1', AliasName: 'alias/bluescape', KeySpec: 'SYMMETRIC_DEFAULT' });
    t.hasResource('AWS::KMS::ReplicaKey', {
      Properties: Match.objectLike({ PrimaryKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyPrimaryLookup'), 'Arn'] }, KeyPolicy: Match.objectLike({ Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowUseOfTheKeyByPartner123456789012' })]) }) }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { Replica: 'true', KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] }, Material: Match.objectLike({ SecretArn: SECRET }) });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
      Action: 'kms:DescribeKey', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:111122223333:key/*']] }, Condition: { StringEquals: { 'kms:RequestAlias': 'alias/bluescape' } },
    })]) } });
    t.resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('a replica given the primary ARN needs no lookup', () => {
    const { replica, material } = stacks();
    new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab' });
    const t = Template.fromStack(replica);
    t.resourceCountIs('Custom::KmsPrimaryKeyLookup', 0);
    t.hasResourceProperties('AWS::KMS::ReplicaKey', { PrimaryKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab' });
  });

  test('a replica without a way to find its primary is refused', () => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryRegion: 'us-east-1' })).toThrow(/\[InvalidProperty\] an ExternalKeyReplica needs primaryKeyArn, or primaryRegion and primaryAlias/);
  });

  test('a replica in its primary\'s region is refused', () => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryRegion: 'eu-west-1', primaryAlias: 'alias/x' })).toThrow(/\[Region\] a replica must be in another region than its primary/);
  });

  test('a multi-Region key cannot rotate to new material through this library', () => {
    const { primary, material } = stacks();
    expect(() => new ExternalKey(primary, 'Key', { material: material(primary), multiRegion: true, rotateOnNewMaterial: true })).toThrow(/\[Rotation\]/);
  });
});
