import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ExternalKey, ImportProvider, KeyMaterial } from '../../lib';
import { stackWithSecret } from './helpers';

describe('ImportProvider', () => {
  test('the default provider: 512 MiB, 15 minutes, logs kept a year, Node.js 24 on x86-64', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 900, Runtime: 'nodejs24.x', Architectures: ['x86_64'] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('a provider created with its settings serves the keys that name it; its role is the one the key policy lets import', () => {
    const { stack, secret } = stackWithSecret();
    const importProvider = new ImportProvider(stack, 'Importer', { memorySize: 1024, timeout: Duration.minutes(5), logRetention: logs.RetentionDays.ONE_MONTH });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), importProvider });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Timeout: 300 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImporterHandler'), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowKeyMaterialImportByCdkKmsByok', Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ImporterRole'), 'Arn'] } } })]) },
    });
  });

  test('keys without a provider share the stack\'s default one; getOrCreate returns it', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromSecret(secret) });
    new ExternalKey(stack, 'B', { material: KeyMaterial.fromSecret(secret) });
    expect(ImportProvider.getOrCreate(stack)).toBe(ImportProvider.getOrCreate(stack.node.findChild('A')));
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 1);
  });

  test('a shorter timeout fits fewer imports, and the quota warning says so sooner', () => {
    const { stack, secret } = stackWithSecret();
    const importProvider = new ImportProvider(stack, 'Importer', { timeout: Duration.minutes(1) });
    // (60 s − 15 s answer margin − 15 s of own work) / (4 s × 1.25) + 1 = 7 imports.
    for (let i = 0; i < 7; i++) new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secret), importProvider });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('importQuota'))).toHaveLength(0);
    new ExternalKey(stack, 'Key7', { material: KeyMaterial.fromSecret(secret), importProvider });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('more than 7 keys\\.'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain('within the 1 minutes of the import handler TestStack/Importer');
  });

  test.each([
    ['timeout 16 minutes', { timeout: Duration.minutes(16) }, 'timeout 16 minutes is not between 1 and 15 minutes'],
    ['timeout 30 seconds', { timeout: Duration.seconds(30) }, 'timeout 30 seconds is not between 1 and 15 minutes'],
    ['memorySize 64', { memorySize: 64 }, 'memorySize 64 is not a Lambda memory size (128 to 10240 MiB)'],
    ['memorySize 512.5', { memorySize: 512.5 }, 'memorySize 512.5 is not a Lambda memory size'],
  ])('settings Lambda would refuse are refused at synth: %s', (_label, props, message) => {
    const { stack } = stackWithSecret();
    expect(() => new ImportProvider(stack, 'Importer', props)).toThrow(`[InvalidProperty] ${message}`);
  });
});
