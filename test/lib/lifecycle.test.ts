import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ExternalKey, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { stackWithSecret } from './helpers';

describe('lifecycle', () => {
  test('a validity given as a deploy-time parameter reaches the handler as a reference', () => {
    const { stack, secret } = stackWithSecret();
    const days = new CfnParameter(stack, 'ValiditySeconds', { type: 'Number' });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.seconds(days.valueAsNumber)) });
    Template.fromStack(stack).hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: { Ref: 'ValiditySeconds' } } });
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
    const cr = Object.values(t.findResources(ExternalKey.IMPORT_RESOURCE_TYPE))[0] as any;
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
    t.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { RotateOnNewMaterial: 'true' });
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

describe('expiry metric and alarm', () => {
  test('the metric is SecondsUntilKeyMaterialExpiration of the imported key, minimum per hour, and takes options', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(365)) });
    const metric = key.metricSecondsUntilKeyMaterialExpiration();
    expect(metric.namespace).toBe('AWS/KMS');
    expect(metric.metricName).toBe('SecondsUntilKeyMaterialExpiration');
    expect(metric.statistic).toBe('Minimum');
    expect(metric.period.toHours()).toBe(1);
    expect(stack.resolve(metric.dimensions)).toEqual({ KeyId: { 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyId'] } });
    const daily = key.metricSecondsUntilKeyMaterialExpiration({ period: Duration.days(1), statistic: 'Average' });
    expect(daily.period.toDays()).toBe(1);
    expect(daily.statistic).toBe('Average');
  });

  test('addExpirationAlarm watches the metric of the imported key, missing data breaching, and notifies a topic', () => {
    const { stack, secret } = stackWithSecret();
    const topic = new sns.Topic(stack, 'Topic');
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(365)) });
    const alarm = key.addExpirationAlarm('ExpirationAlarm', { threshold: Duration.days(14), topic, alarmName: 'key-expiry' });
    expect(alarm.node.path).toBe('TestStack/Key/ExpirationAlarm');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'key-expiry', Namespace: 'AWS/KMS', MetricName: 'SecondsUntilKeyMaterialExpiration', Statistic: 'Minimum', Period: 3600,
      Dimensions: [{ Name: 'KeyId', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyId'] } }],
      Threshold: 14 * 86400, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }], OKActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
    });
  });

  test('without a threshold the alarm fires 30 days before expiry, and without a topic it has no actions', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.at(new Date(Date.now() + 90 * 86400_000)) });
    key.addExpirationAlarm('Expiry');
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({ Threshold: 30 * 86400, ComparisonOperator: 'LessThanThreshold', AlarmDescription: expect.stringContaining('expires within 30 days') });
    expect(alarms[0].Properties.AlarmActions).toBeUndefined();
    expect(alarms[0].Properties.OKActions).toBeUndefined();
  });

  test('a key has no alarm unless one is added', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(90)) });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('an alarm on material that never expires is refused', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    expect(() => key.addExpirationAlarm('Expiry')).toThrow(/^\[Expiration\] addExpirationAlarm needs an expiring material: set expiration to KeyMaterialExpiration.after\(\) or .at\(\) \(at TestStack\/Key\)$/);
  });
});
