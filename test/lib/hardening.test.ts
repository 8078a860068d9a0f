import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addPartnerKeyStacks } from '../../bin/byok-stacks';
import { ByokConfig, loadConfig } from '../../bin/config';
import { ExternalKey, ExternalKeyReplica, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, PartnerAccess, PrimaryKey } from '../../lib';
import { STACK_ID_ENV } from '../../lib/private/contract';

const ACCOUNT = '111122223333';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:m-AbCdEf`;

function newStack(env: { account?: string; region?: string } = { account: ACCOUNT, region: 'us-east-1' }): Stack {
  return new Stack(new App(), 'Hardening', { env });
}
const secretIn = (stack: Stack) => (stack.node.tryFindChild('S') as secretsmanager.ISecret | undefined) ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN);
const importOf = (stack: Stack) => Object.values(Template.fromStack(stack).findResources('Custom::KmsKeyMaterialImport'))[0] as any;

describe('a failed first deploy leaves no live key', () => {
  test('keys and replicas default to RetainExceptOnCreate: retained on deletion and replacement, deleted when their creation rolls back', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)) });
    new ExternalKeyReplica(stack, 'Replica', { material: KeyMaterial.fromSecret(secretIn(stack)), primaryKey: PrimaryKey.fromKeyArn('arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef') });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::KMS::ReplicaKey', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
  });
});

describe('the handler knows its stack', () => {
  test('the function gets its own stack id, and its role may call DescribeStackResource on that stack only', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { [STACK_ID_ENV]: { Ref: 'AWS::StackId' } } } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'cloudformation:DescribeStackResource', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } }]) },
    });
  });
});

describe('encoding defaults to what the secret holds', () => {
  test('no encoding given puts none in the template (the handler reads a SecretBinary as raw bytes); a given one is passed on', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Unset', { material: KeyMaterial.fromSecret(secretIn(stack)) });
    new ExternalKey(stack, 'Hex', { material: KeyMaterial.fromSecret(secretIn(stack), { encoding: KeyMaterialEncoding.HEX }) });
    const imports = Object.entries(Template.fromStack(stack).findResources('Custom::KmsKeyMaterialImport'));
    const material = (prefix: string) => (imports.find(([id]) => id.startsWith(prefix))![1] as any).Properties.Material;
    expect(material('Unset')).not.toHaveProperty('Encoding');
    expect(material('Hex')).toMatchObject({ Encoding: 'HEX' });
  });
});

describe('a pinned secret version', () => {
  test('limits the role\'s GetSecretValue to that version (secretsmanager:VersionId)', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack), { versionId: 'v-42' }) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: SECRET_ARN, Condition: { StringEquals: { 'secretsmanager:VersionId': 'v-42' } } }]) },
    });
  });

  test('an unpinned secret has no version condition', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: SECRET_ARN }]) },
    });
  });

  test('a pinned wrapped-material version of the offline flow is limited the same way', () => {
    const stack = newStack();
    const wrapped = secretsmanager.Secret.fromSecretCompleteArn(stack, 'W', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:w-AbCdEf`);
    const parameters = secretsmanager.Secret.fromSecretCompleteArn(stack, 'P', `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:p-AbCdEf`);
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromOfflineWrap({ parametersSecret: parameters, wrappedMaterial: wrapped, wrappedMaterialVersionId: 'v-9' }) });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: wrapped.secretArn, Condition: { StringEquals: { 'secretsmanager:VersionId': 'v-9' } } }]) },
    });
  });
});

describe('a partner is another account', () => {
  test('the key\'s own account as partner is refused at synth, naming it', () => {
    const stack = newStack();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)), partners: [PartnerAccess.account(ACCOUNT)] }))
      .toThrow(`[PartnerAccountId] partner account ${ACCOUNT} is the key's own account`);
  });
});

describe('synth does not depend on today\'s date', () => {
  test('an expiration date in the past synthesizes with a warning naming it (the import enforces it)', () => {
    const stack = newStack();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)), expiration: KeyMaterialExpiration.at(new Date('2020-01-01T00:00:00Z')) });
    expect(importOf(stack).Properties.Expiration).toEqual({ Model: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00.000Z' });
    Annotations.fromStack(stack).hasWarning('/Hardening/Key', Match.stringLikeRegexp('expiration date 2020-01-01T00:00:00.000Z is in the past: every import of this material will fail \\(\\[Expiration\\]\\)'));
  });

  test('an expiration date more than 365 days away synthesizes with a warning', () => {
    const stack = newStack();
    const far = new Date(Date.now() + 400 * 86400_000);
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretIn(stack)), expiration: KeyMaterialExpiration.at(far) });
    Annotations.fromStack(stack).hasWarning('/Hardening/Key', Match.stringLikeRegexp(`expiration date ${far.toISOString()} is more than 365 days away`));
  });
});

describe('the example app', () => {
  const base: Omit<ByokConfig, 'partnerAccountIds'> = { alias: 'alias/partner-byok', secretArn: SECRET_ARN, secretKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, accounts: [ACCOUNT, '444455556666'], regions: ['us-east-1', 'eu-west-1'] };

  test('has no default partner: without one the app refuses to synthesize, naming the context key and the config field', () => {
    const app = new App({ context: { secretName: 'byok/key-material', alias: 'alias/partner-byok' } });
    expect(() => loadConfig(app)).toThrow('the example app needs the partner\'s AWS account id: set the context key partnerAccountId (cdk deploy -c partnerAccountId=123456789012) or the field partnerAccountIds of the byok config');
  });

  test('takes the encoding from the context or the config, and refuses an unknown one naming it', () => {
    expect(loadConfig(new App({ context: { partnerAccountId: '210987654321', encoding: 'BINARY' } }))).toMatchObject({ partnerAccountIds: ['210987654321'], encoding: 'BINARY' });
    expect(() => loadConfig(new App({ context: { partnerAccountId: '210987654321', encoding: 'base64' } })))
      .toThrow('the example app\'s encoding \'base64\' (context key encoding or config field encoding) is not one of BINARY, BASE64, HEX, PEM');
    const app = new App();
    const [stack] = addPartnerKeyStacks(app, { ...base, partnerAccountIds: ['210987654321'], encoding: 'BINARY' });
    expect(importOf(stack).Properties.Material).toMatchObject({ Encoding: 'BINARY' });
  });

  test.each([
    ['independent keys in two accounts and regions', { multiRegion: false }],
    ['a multi-Region primary with replica stacks', { multiRegion: true }],
    ['an expiring material', { multiRegion: true, expirationDays: 90 }],
  ])('cdk-nag AwsSolutions finds nothing unacknowledged in any stack: %s', (_name, shape) => {
    const app = new App();
    const stacks = addPartnerKeyStacks(app, { ...base, partnerAccountIds: ['210987654321'], ...shape });
    expect(stacks.length).toBe(4);
    for (const stack of stacks) {
      const violations = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => `${stack.stackName} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      expect(violations).toEqual([]);
    }
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged in an env-agnostic stack of the app', () => {
    const app = new App();
    const [stack] = addPartnerKeyStacks(app, { alias: 'alias/partner-byok', secretName: 'byok/key-material', partnerAccountIds: ['210987654321'] });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
