import { App, CfnParameter, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, ExternalKeyReplica, KeyMaterial, PartnerAccess, PrimaryKey, WrappingAlgorithm } from '../../lib';

const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf';
const PRIMARY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';
const IMPORT = ExternalKey.IMPORT_RESOURCE_TYPE;

function stacks() {
  const app = new App();
  const primary = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'us-east-1' } });
  const replica = new Stack(app, 'Replica', { env: { account: '111122223333', region: 'eu-west-1' } });
  replica.addStackDependency(primary);
  const material = (s: Stack) => KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(s, 'S', SECRET));
  return { app, primary, replica, material };
}

function replicaStack(env?: { account: string; region: string }) {
  const stack = new Stack(new App(), 'Replica', { env });
  const material = KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET));
  return { stack, material };
}

const EU_WEST_1 = { account: '111122223333', region: 'eu-west-1' };

describe('ExternalKeyReplica: the primary found by alias', () => {
  test('a multi-Region primary and a replica found by alias, importing the same secret as EXISTING material', () => {
    const { primary, replica, material } = stacks();
    new ExternalKey(primary, 'Key', { material: material(primary), multiRegion: true, alias: 'alias/workspace' });
    new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/workspace'), alias: 'alias/workspace', partners: [PartnerAccess.account('123456789012')] });
    Template.fromStack(primary).hasResourceProperties('AWS::KMS::Key', { MultiRegion: true, Origin: 'EXTERNAL' });
    const t = Template.fromStack(replica);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: 'us-east-1', AliasName: 'alias/workspace', KeySpec: 'SYMMETRIC_DEFAULT' });
    t.hasResource('AWS::KMS::ReplicaKey', {
      Properties: Match.objectLike({ PrimaryKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyPrimaryLookup'), 'Arn'] }, KeyPolicy: Match.objectLike({ Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowUseOfTheKeyByPartner123456789012' })]) }) }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    t.hasResourceProperties(IMPORT, { Replica: 'true', KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] }, Material: Match.objectLike({ SecretArn: SECRET }) });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
      Action: 'kms:DescribeKey', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:111122223333:key/*']] }, Condition: { StringEquals: { 'kms:RequestAlias': 'alias/workspace' } },
    })]) } });
    t.resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('an HMAC replica defaults its usage to the spec\'s and declares the lookup with both', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/mac'), keySpec: kms.KeySpec.HMAC_384 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' });
    t.hasResourceProperties(IMPORT, { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', Replica: 'true', Material: Match.objectLike({ Type: 'SecretsManager' }) });
  });

  test('a primary region given as a token is not checked at synth time and scopes the lookup permission', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    const region = new CfnParameter(stack, 'PrimaryRegion').valueAsString;
    new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias(region, 'alias/x') });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: { Ref: 'PrimaryRegion' } });
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const describe = statements.find((s: any) => s.Action === 'kms:DescribeKey');
    expect(JSON.stringify(describe.Resource)).toContain('{"Ref":"PrimaryRegion"}');
    expect(describe.Condition).toEqual({ StringEquals: { 'kms:RequestAlias': 'alias/x' } });
  });

  test('the lookup waits for the handler\'s DescribeKey permission', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x') });
    const t = Template.fromStack(stack);
    const [policyId] = Object.entries(t.findResources('AWS::IAM::Policy')).find(([, p]: any) => JSON.stringify(p).includes('kms:DescribeKey'))!;
    t.hasResource('Custom::KmsPrimaryKeyLookup', { DependsOn: Match.arrayWith([policyId]) });
  });

  test('a primary alias that is not an alias name is refused', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'workspace') }))
      .toThrow(/^\[InvalidProperty\] primary key alias 'workspace' is not an alias name: it starts with 'alias\/'/);
  });
});

describe('ExternalKeyReplica: the primary by ARN or as a key', () => {
  test('a replica given the primary ARN needs no lookup', () => {
    const { replica, material } = stacks();
    new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKey: PrimaryKey.fromKeyArn(PRIMARY_ARN) });
    const t = Template.fromStack(replica);
    t.resourceCountIs('Custom::KmsPrimaryKeyLookup', 0);
    t.hasResourceProperties('AWS::KMS::ReplicaKey', { PrimaryKeyArn: PRIMARY_ARN });
  });

  test('a primary given as a kms.IKey is replicated by its ARN, and its region is checked', () => {
    const { replica, material } = stacks();
    const secret = material(replica);
    const key = kms.Key.fromKeyArn(replica, 'Primary', PRIMARY_ARN);
    new ExternalKeyReplica(replica, 'Key', { material: secret, primaryKey: PrimaryKey.fromKey(key) });
    Template.fromStack(replica).hasResourceProperties('AWS::KMS::ReplicaKey', { PrimaryKeyArn: PRIMARY_ARN });
    // A key of this stack: its ARN is a token, its region the stack's.
    const sameRegion = new ExternalKey(replica, 'Local', { material: secret, multiRegion: true });
    expect(() => new ExternalKeyReplica(replica, 'Key2', { material: secret, primaryKey: PrimaryKey.fromKey(sameRegion) }))
      .toThrow(/^\[Region\] a replica must be in another region than its primary \(both are in eu-west-1\)/);
  });

  test('an ExternalKey of a stack in another region is the primary through a cross-region reference', () => {
    const app = new App();
    const primary = new Stack(app, 'Primary', { env: { account: '111122223333', region: 'us-east-1' }, crossRegionReferences: true });
    const replica = new Stack(app, 'Replica', { env: EU_WEST_1, crossRegionReferences: true });
    const secret = (s: Stack) => KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(s, 'S', SECRET));
    const key = new ExternalKey(primary, 'Key', { material: secret(primary), multiRegion: true });
    new ExternalKeyReplica(replica, 'Key', { material: secret(replica), primaryKey: PrimaryKey.fromKey(key) });
    const arn = Template.fromStack(replica).findResources('AWS::KMS::ReplicaKey');
    expect(JSON.stringify(Object.values(arn)[0])).toContain('ExportsReader');
  });

  test('a primary ARN that is not a KMS key ARN is refused', () => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKey: PrimaryKey.fromKeyArn('arn:aws:kms:us-east-1:111122223333:alias/workspace') }))
      .toThrow(/^\[InvalidProperty\] primary key 'arn:aws:kms:us-east-1:111122223333:alias\/workspace' is not the ARN of a KMS key/);
  });

  test('a primary ARN given as a token is not checked at synth time', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    const arn = new CfnParameter(stack, 'PrimaryArn').valueAsString;
    new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromKeyArn(arn) });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::ReplicaKey', { PrimaryKeyArn: { Ref: 'PrimaryArn' } });
  });

  test('description, pending window and removal policy reach the replica key', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    const key = new ExternalKeyReplica(stack, 'Key', {
      material, primaryKey: PrimaryKey.fromKeyArn('arn:aws:kms:us-east-1:111122223333:key/mrk-1'), description: 'replica', pendingWindow: Duration.days(7), removalPolicy: RemovalPolicy.DESTROY,
    });
    Template.fromStack(stack).hasResource('AWS::KMS::ReplicaKey', {
      Properties: Match.objectLike({ Description: 'replica', PendingWindowInDays: 7 }), DeletionPolicy: 'Delete',
    });
    expect(stack.resolve(key.keyArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyArn'] });
  });

  test('in an environment-agnostic stack the replica is declared and partition rules are left to the handler', () => {
    const { stack, material } = replicaStack();
    new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x'), wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256 });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('Custom::KmsPrimaryKeyLookup', { PrimaryRegion: 'us-east-1', AliasName: 'alias/x' });
    t.hasResourceProperties(IMPORT, { WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
  });
});

describe('ExternalKeyReplica: what is refused', () => {
  test('a replica without a primary key is refused for JavaScript callers, with what to pass', () => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica) } as any))
      .toThrow(/^\[InvalidProperty\] primaryKey is required: name the multi-Region primary key with PrimaryKey.fromKeyArn/);
  });

  test.each([
    ['an alias without a region', () => PrimaryKey.fromAlias(undefined as any, 'alias/x'), 'PrimaryKey.fromAlias needs the region and the alias name of the primary key'],
    ['an alias without a name', () => PrimaryKey.fromAlias('us-east-1', undefined as any), 'PrimaryKey.fromAlias needs the region and the alias name of the primary key'],
    ['an ARN that is missing', () => PrimaryKey.fromKeyArn(undefined as any), 'PrimaryKey.fromKeyArn needs the ARN of the primary key'],
  ])('a primary key given as %s is refused for JavaScript callers', (_what, primaryKey, message) => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKey: primaryKey() })).toThrow(`[InvalidProperty] ${message} (at Replica/Key)`);
  });

  test.each([
    ['by alias', PrimaryKey.fromAlias('eu-west-1', 'alias/x')],
    ['by ARN', PrimaryKey.fromKeyArn('arn:aws:kms:eu-west-1:111122223333:key/mrk-1')],
  ])('a replica in its primary\'s region is refused (%s)', (_how, primaryKey) => {
    const { replica, material } = stacks();
    expect(() => new ExternalKeyReplica(replica, 'Key', { material: material(replica), primaryKey })).toThrow(/^\[Region\] a replica must be in another region than its primary \(both are in eu-west-1\) \(at Replica\/Key\)$/);
  });

  test('a primary region that is not a region name is refused', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('virginia', 'alias/x') }))
      .toThrow(/^\[Region\] primary key region 'virginia' is not an AWS region name \(at Replica\/Key\)$/);
  });

  test('a replica in another partition than its primary is refused', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'cn-north-1' });
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x') }))
      .toThrow(/^\[Region\] a replica must be in the partition of its primary: the primary is in us-east-1 \(aws\), the replica in cn-north-1 \(aws-cn\)/);
  });

  test('a replica\'s own region must be a region name, as a key\'s', () => {
    const { stack, material } = replicaStack({ account: '111122223333', region: 'mars-1' });
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x') }))
      .toThrow(/^\[Region\] region 'mars-1' is not an AWS region name \(at Replica\/Key\)$/);
  });

  test('a replica of a key spec that cannot be imported is refused before anything is declared', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x'), keySpec: kms.KeySpec.ML_DSA_44 }))
      .toThrow(/^\[KeySpecNotImportable\] key spec 'ML_DSA_44' cannot have imported key material: KMS cannot import ML-DSA key material/);
  });

  test('a replica of a key spec KMS does not know falls back to ENCRYPT_DECRYPT and is refused as not importable', () => {
    const { stack, material } = replicaStack(EU_WEST_1);
    expect(() => new ExternalKeyReplica(stack, 'Key', { material, primaryKey: PrimaryKey.fromAlias('us-east-1', 'alias/x'), keySpec: 'AES_512' as kms.KeySpec }))
      .toThrow(/^\[KeySpecNotImportable\] key spec 'AES_512' is not a KMS key spec that supports imported key material/);
  });

  test('a multi-Region key cannot rotate to new material through this library', () => {
    const { primary, material } = stacks();
    expect(() => new ExternalKey(primary, 'Key', { material: material(primary), multiRegion: true, rotateOnNewMaterial: true })).toThrow(/\[Rotation\]/);
  });
});
