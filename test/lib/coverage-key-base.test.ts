import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialExpiration } from '../../lib';
import { stackWithSecret } from './helpers';

/** A key of the given spec and a same-account role to grant to. */
function keyAndRole(keySpec: kms.KeySpec = kms.KeySpec.SYMMETRIC_DEFAULT, keyUsage?: kms.KeyUsage) {
  const { stack, secret } = stackWithSecret();
  const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), keySpec, keyUsage });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  return { stack, key, role };
}

/** The statements of the role's identity policy. */
function roleStatements(stack: ReturnType<typeof keyAndRole>['stack']): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Role') }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const IMPORTED_KEY_ARN = { 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyArn'] };

describe('grants on an imported key', () => {
  test.each([
    ['grantDecrypt', kms.KeySpec.SYMMETRIC_DEFAULT, undefined, 'kms:Decrypt'],
    ['grantEncrypt', kms.KeySpec.SYMMETRIC_DEFAULT, undefined, ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*']],
    ['grantEncryptDecrypt', kms.KeySpec.SYMMETRIC_DEFAULT, undefined, ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*']],
    ['grantSign', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'kms:Sign'],
    ['grantVerify', kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, 'kms:Verify'],
    ['grantSignVerify', kms.KeySpec.RSA_2048, kms.KeyUsage.SIGN_VERIFY, ['kms:Sign', 'kms:Verify']],
    ['grantGenerateMac', kms.KeySpec.HMAC_256, undefined, 'kms:GenerateMac'],
    ['grantVerifyMac', kms.KeySpec.HMAC_256, undefined, 'kms:VerifyMac'],
    ['grantDeriveSharedSecret', kms.KeySpec.ECC_NIST_P384, kms.KeyUsage.KEY_AGREEMENT, 'kms:DeriveSharedSecret'],
  ] as const)('%s grants exactly its actions on the imported key\'s ARN in the grantee\'s policy', (method, keySpec, keyUsage, actions) => {
    const { stack, key, role } = keyAndRole(keySpec, keyUsage);
    const grant = (key as any)[method](role) as iam.Grant;
    expect(grant.success).toBe(true);
    expect(roleStatements(stack)).toEqual([{ Effect: 'Allow', Action: actions, Resource: IMPORTED_KEY_ARN }]);
  });

  test('grant with explicit actions passes them through unchanged', () => {
    const { stack, key, role } = keyAndRole();
    key.grant(role, 'kms:DescribeKey', 'kms:GetKeyPolicy');
    expect(roleStatements(stack)).toEqual([{ Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:GetKeyPolicy'], Resource: IMPORTED_KEY_ARN }]);
  });

  test('grantAdmin gives the administration actions but none that use the key', () => {
    const { stack, key, role } = keyAndRole();
    key.grantAdmin(role);
    const [statement] = roleStatements(stack);
    expect(statement.Resource).toEqual(IMPORTED_KEY_ARN);
    expect(statement.Action).toEqual(expect.arrayContaining(['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:Disable*', 'kms:Put*', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion']));
    for (const use of ['kms:Decrypt', 'kms:Encrypt', 'kms:Sign', 'kms:GenerateDataKey*']) expect(statement.Action).not.toContain(use);
  });

  test('a same-account grant does not touch the key policy', () => {
    const keyPolicy = (stack: ReturnType<typeof keyAndRole>['stack']) => Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')).map((k: any) => k.Properties.KeyPolicy);
    const ungranted = keyAndRole();
    const granted = keyAndRole();
    granted.key.grantDecrypt(granted.role);
    expect(keyPolicy(granted.stack)).toEqual(keyPolicy(ungranted.stack));
    expect(roleStatements(granted.stack)).toHaveLength(1);
  });

  test('addToResourcePolicy adds the statement to the key policy and reports it added', () => {
    const { stack, key } = keyAndRole();
    const result = key.addToResourcePolicy(new iam.PolicyStatement({ sid: 'Auditor', principals: [new iam.AccountPrincipal('444455556666')], actions: ['kms:DescribeKey'], resources: ['*'] }));
    expect(result.statementAdded).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'Auditor', Action: 'kms:DescribeKey', Resource: '*' })]) },
    });
  });

  test('keyRef names the imported key id and ARN, so that users wait for the import', () => {
    const { stack, key } = keyAndRole();
    expect(stack.resolve(key.keyRef)).toEqual({ keyId: { 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyId'] }, keyArn: IMPORTED_KEY_ARN });
  });

  test('addAlias creates an alias that targets the imported key', () => {
    const { stack, key } = keyAndRole();
    key.addAlias('alias/extra');
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/extra', TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] } });
  });
});

describe('expiry alarm defaults', () => {
  test('without a threshold the alarm fires 30 days before expiry, and without a topic it has no actions', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(90)), expirationAlarm: {} });
    expect(key.expirationAlarm).toBeDefined();
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0].Properties).toMatchObject({ Threshold: 30 * 86400, ComparisonOperator: 'LessThanThreshold', AlarmDescription: expect.stringContaining('expires within 30 days') });
    expect(alarms[0].Properties.AlarmActions).toBeUndefined();
    expect(alarms[0].Properties.OKActions).toBeUndefined();
  });

  test('a key without expirationAlarm has no alarm', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(90)) });
    expect(key.expirationAlarm).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});
