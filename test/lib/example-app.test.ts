import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { addPartnerKeyStacks, ByokStage } from '../../bin/byok-stacks';
import { ByokConfig, loadConfig } from '../../bin/config';

const config: ByokConfig = {
  partnerAccountIds: ['123456789012'], alias: 'alias/bluescape-workspace',
  secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf',
  accounts: ['111122223333'], regions: ['us-east-1', 'eu-west-1'],
};

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('the example app', () => {
  test('declares one stack per account and region, named after them', () => {
    const app = new App();
    const stacks = addPartnerKeyStacks(app, { ...config, accounts: ['111122223333', '444455556666'], secretKeyArn: KEY_ARN });
    expect(stacks.map((s) => s.stackName)).toEqual([
      'PartnerKey-111122223333-us-east-1', 'PartnerKey-111122223333-eu-west-1',
      'PartnerKey-444455556666-us-east-1', 'PartnerKey-444455556666-eu-west-1',
    ]);
    for (const s of stacks) Template.fromStack(s).hasOutput('KeyArn', {});
  });

  test('across accounts: the secret\'s key is required at synth, the import roles may decrypt only through Secrets Manager, and the secret\'s account grants the others read access', () => {
    expect(() => addPartnerKeyStacks(new App(), { ...config, accounts: ['111122223333', '444455556666'] }))
      .toThrow(/^\[SecretEncryptionKey\] the material secret arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf is in account 111122223333, not 444455556666: .*customer managed KMS key/);
    const app = new App();
    const stacks = addPartnerKeyStacks(app, { ...config, accounts: ['111122223333', '444455556666'], secretKeyArn: KEY_ARN });
    Template.fromStack(stacks[2]).hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: KEY_ARN, Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } } },
    ]) } });
    const access = app.node.findChild('ByokSecretAccess-111122223333-us-east-1') as Stack;
    const template = Template.fromStack(access);
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: config.secretArn, BlockPublicPolicy: true,
      ResourcePolicy: { Statement: [Match.objectLike({ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::444455556666:root'] }, Action: 'secretsmanager:GetSecretValue' })] },
    });
    expect(JSON.parse(template.findOutputs('KeyPolicyStatement').KeyPolicyStatement.Value)).toMatchObject({
      Principal: { AWS: ['arn:aws:iam::444455556666:root'] }, Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
    expect(stacks.filter((s) => s.account === '444455556666').every((s) => s.dependencies.includes(access))).toBe(true);
  });

  test('multiRegion makes the first region the primary and the others replicas that depend on it', () => {
    const app = new App();
    const [primary, replica] = addPartnerKeyStacks(app, { ...config, multiRegion: true });
    Template.fromStack(primary).hasResourceProperties('AWS::KMS::Key', { MultiRegion: true });
    Template.fromStack(replica).resourceCountIs('AWS::KMS::ReplicaKey', 1);
    expect(replica.dependencies).toContain(primary);
  });

  test('multiRegion with one region is refused', () => {
    expect(() => addPartnerKeyStacks(new App(), { ...config, regions: ['us-east-1'], multiRegion: true })).toThrow(/multiRegion needs at least two regions/);
  });

  test('the single-key context keys of the quick start still configure it', () => {
    const app = new App({ context: { partnerAccountId: '210987654321', secretName: 'byok/x', alias: 'alias/y', account: '111122223333', region: 'eu-west-1' } });
    expect(loadConfig(app)).toMatchObject({ partnerAccountIds: ['210987654321'], secretName: 'byok/x', alias: 'alias/y', accounts: ['111122223333'], regions: ['eu-west-1'] });
  });

  test('works inside a Stage and as a CDK Pipelines stage', () => {
    const app = new App();
    const pipelineStack = new Stack(app, 'Pipeline', { env: { account: '111122223333', region: 'us-east-1' } });
    const pipeline = new pipelines.CodePipeline(pipelineStack, 'Pipeline', {
      synth: new pipelines.ShellStep('Synth', {
        input: pipelines.CodePipelineSource.connection('example/byok-keys', 'main', { connectionArn: 'arn:aws:codeconnections:us-east-1:111122223333:connection/abc' }),
        commands: ['npm ci', 'npm run build', 'npx cdk synth'],
      }),
    });
    const wave = pipeline.addWave('Keys');
    for (const region of ['us-east-1', 'eu-west-1']) {
      wave.addStage(new ByokStage(app, `Byok-${region}`, { config: { ...config, regions: [region] } }));
    }
    const assembly = app.synth();
    const pipelineTemplate = JSON.stringify(assembly.getStackByName('Pipeline').template);
    expect(pipelineTemplate).toContain('Byok-us-east-1');
    expect(pipelineTemplate).toContain('Byok-eu-west-1');
    const stage = assembly.getNestedAssembly('assembly-Byok-eu-west-1');
    expect(stage.stacks.map((s) => s.stackName)).toEqual(['Byok-eu-west-1-PartnerKey-111122223333-eu-west-1']);
  });
});
