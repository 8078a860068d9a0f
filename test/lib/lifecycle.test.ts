import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ExternalKey, IMPORT_RESOURCE_TYPE, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { stackWithSecret } from './helpers';

describe('lifecycle', () => {
  test('the expiry alarm watches SecondsUntilKeyMaterialExpiration of the imported key, missing data breaching', () => {
    const { stack, secret } = stackWithSecret();
    const topic = new sns.Topic(stack, 'Topic');
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(365)),
      expirationAlarm: { threshold: Duration.days(14), topic },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/KMS', MetricName: 'SecondsUntilKeyMaterialExpiration', Statistic: 'Minimum',
      Dimensions: [{ Name: 'KeyId', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyId'] } }],
      Threshold: 14 * 86400, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }], OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
  });

  test('a validity given as a deploy-time parameter reaches the handler as a reference', () => {
    const { stack, secret } = stackWithSecret();
    const days = new CfnParameter(stack, 'ValiditySeconds', { type: 'Number' });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.seconds(days.valueAsNumber)) });
    Template.fromStack(stack).hasResourceProperties(IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: { Ref: 'ValiditySeconds' } } });
  });

  test('an alarm without an expiring material is refused', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expirationAlarm: {} }))
      .toThrow(/\[Expiration\] expirationAlarm needs an expiring material/);
  });

  test('renewal is a schedule that sends the handler the same import properties, after the first import', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(30)), renewEvery: Duration.days(7) });
    const t = Template.fromStack(stack);
    const rule = Object.values(t.findResources('AWS::Events::Rule'))[0] as any;
    // Daily, at a minute of the key's own; the handler renews material older than 6 days.
    expect(rule.Properties.ScheduleExpression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(rule.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^KeyImport/)]));
    const input = JSON.stringify(rule.Properties.Targets[0].Input);
    expect(input).toContain('\\"action\\":\\"renew\\"');
    expect(input).toContain('ValidForSeconds');
    expect(input).toContain(`\\"renewAfterSeconds\\":\\"${6 * 86400}\\"`);
    const cr = Object.values(t.findResources(IMPORT_RESOURCE_TYPE))[0] as any;
    expect(rule.Properties.Targets[0].Arn).toEqual(cr.Properties.ServiceToken);
    t.resourceCountIs('AWS::Lambda::Permission', 1);
  });

  test('keys of a stack with the same renewEvery fire at different minutes; hourly under a day; rate() under an hour', () => {
    const { stack, secret } = stackWithSecret();
    const renewing = (id: string, renewEvery: Duration, validity: Duration) =>
      new ExternalKey(stack, id, { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(validity), renewEvery });
    for (let i = 0; i < 30; i++) renewing(`Daily${i}`, Duration.days(30), Duration.days(90));
    renewing('Hourly', Duration.hours(6), Duration.hours(12));
    renewing('Often', Duration.minutes(30), Duration.hours(2));
    const rules = Template.fromStack(stack).findResources('AWS::Events::Rule');
    const schedule = (prefix: string) => Object.entries(rules).filter(([id]) => id.startsWith(prefix)).map(([, r]: any) => r.Properties.ScheduleExpression as string);
    const daily = schedule('Daily');
    expect(daily).toHaveLength(30);
    // cron(M H * * ? *): 30 distinct minutes of the day.
    expect(new Set(daily.map((e) => /^cron\((\d+) (\d+) \* \* \? \*\)$/.exec(e)!.slice(1, 3).join(':'))).size).toBe(30);
    expect(schedule('Hourly')).toEqual([expect.stringMatching(/^cron\(\d+ \* \* \* \? \*\)$/)]);
    expect(schedule('Often')).toEqual(['rate(30 minutes)']);
  });

  test('a stack with more imports than fit the handler\'s budget at the default quota gets one warning', () => {
    const { stack, secret } = stackWithSecret();
    const warnings = () => stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    for (let i = 0; i < 175; i++) new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secret) });
    expect(warnings()).toEqual([]);
    new ExternalKey(stack, 'Key175', { material: KeyMaterial.fromSecret(secret) });
    new ExternalKey(stack, 'Key176', { material: KeyMaterial.fromSecret(secret) });
    expect(warnings()).toEqual([expect.stringMatching(/imports key material into more than 175 keys\. KMS allows one GetParametersForImport every 4 seconds per account and Region .* Split the keys over several stacks/)]);
  });

  test.each([
    [KeyMaterialExpiration.never(), Duration.days(7)],
    [KeyMaterialExpiration.after(Duration.days(7)), Duration.days(7)],
    [KeyMaterialExpiration.at(new Date(Date.now() + 86400_000 * 30)), Duration.days(7)],
  ])('renewal needs a relative expiry longer than its period (case %#)', (expiration, renewEvery) => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration, renewEvery })).toThrow(/\[Expiration\] renewEvery \(7 days\) needs expiration: KeyMaterialExpiration.after/);
  });

  test('rotation to new material adds kms:RotateKeyOnDemand for that key only', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), rotateOnNewMaterial: true });
    new ExternalKey(stack, 'Other', { material: KeyMaterial.fromSecret(secret) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { RotateOnNewMaterial: 'true' });
    const actions = Object.entries(t.findResources('AWS::KMS::Key')).map(([id, k]: [string, any]) => [id.replace(/[0-9A-F]{8}$/, ''), k.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'AllowKeyMaterialImportByCdkKmsByok').Action]);
    expect(actions).toEqual([
      ['Key', ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey', 'kms:RotateKeyOnDemand']],
      ['Other', ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey']],
    ]);
  });

  test('rotation to new material is refused for keys that can hold only one material', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.HMAC_256, rotateOnNewMaterial: true }))
      .toThrow(/\[Rotation\] rotateOnNewMaterial is only possible for single-Region SYMMETRIC_DEFAULT keys; KMS lets a HMAC_256 key hold only the material first imported/);
  });
});
