import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ExternalKey, IMPORT_RESOURCE_TYPE, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, PartnerAccess, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { SECRET_ARN, stackWithSecret } from './helpers';

describe('ExternalKey', () => {
  test('declares an EXTERNAL-origin symmetric key that is retained by default, except when its creation rolls back', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ Origin: 'EXTERNAL', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }),
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::KMS::Key', Match.not(Match.objectLike({ EnableKeyRotation: Match.anyValue() })));
  });

  test('the key policy keeps the account root as administrator so the account is never locked out', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:*', Principal: { AWS: Match.objectLike({ 'Fn::Join': Match.anyValue() }) } })]) },
    });
  });

  test('the import custom resource carries references only: key ARN, secret ARN, spec, wrapping and expiry', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret, { versionId: 'v-1', jsonField: 'key' }) });
    Template.fromStack(stack).hasResourceProperties(IMPORT_RESOURCE_TYPE, {
      KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      WrappingKeySpec: 'RSA_4096',
      Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, VersionId: 'v-1', JsonField: 'key' },
      Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
    });
  });

  test('the handler may wait 15 minutes for its import (Lambda\'s maximum); CloudFormation waits at most 20, not its default hour', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties(IMPORT_RESOURCE_TYPE, { ServiceTimeout: '1200' });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900 });
  });

  test('wrapping algorithm, wrapping key size and encoding can be chosen', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret, { encoding: KeyMaterialEncoding.HEX }),
      wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1,
      wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
    Template.fromStack(stack).hasResourceProperties(IMPORT_RESOURCE_TYPE, {
      WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_1', WrappingKeySpec: 'RSA_2048', Material: Match.objectLike({ Encoding: 'HEX' }),
    });
  });

  test('one handler Lambda serves every key in a stack', () => {
    const { stack, secret } = stackWithSecret();
    for (const id of ['A', 'B', 'C']) new ExternalKey(stack, id, { material: KeyMaterial.fromSecret(secret) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.resourceCountIs('AWS::KMS::Key', 3);
    t.resourceCountIs(IMPORT_RESOURCE_TYPE, 3);
  });

  test('the handler may import into each key through that key\'s own policy, with only the actions used', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromSecret(secret) });
    new ExternalKey(stack, 'B', { material: KeyMaterial.fromSecret(secret), deleteMaterialOnRemoval: true });
    const keys = Template.fromStack(stack).findResources('AWS::KMS::Key');
    const importStatements = Object.entries(keys).map(([id, k]: [string, any]) => [id, k.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'AllowKeyMaterialImportByCdkKmsByok')]);
    expect(importStatements).toEqual([
      [expect.stringMatching(/^A/), { Sid: 'AllowKeyMaterialImportByCdkKmsByok', Effect: 'Allow', Resource: '*', Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^CdkKmsByokImportProviderRole/), 'Arn'] } }, Action: ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey'] }],
      [expect.stringMatching(/^B/), expect.objectContaining({ Action: ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey', 'kms:DeleteImportedKeyMaterial'] })],
    ]);
  });

  test('the handler role reads exactly the secrets used, once each, and has no wildcard resource', () => {
    const { stack, secret } = stackWithSecret();
    for (const id of ['A', 'B', 'C']) new ExternalKey(stack, id, { material: KeyMaterial.fromSecret(secret) });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    for (const s of statements) expect(s.Resource).not.toEqual('*');
    expect(statements.filter((s: any) => s.Action === 'secretsmanager:GetSecretValue')).toEqual([{ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: SECRET_ARN }]);
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.startsWith('kms:'))).toEqual([]);
  });

  test('a secret known only by name is granted with the 6-character suffix wildcard, not more', () => {
    const { stack } = stackWithSecret();
    const secret = (require('aws-cdk-lib/aws-secretsmanager') as typeof import('aws-cdk-lib/aws-secretsmanager')).Secret.fromSecretNameV2(stack, 'ByName', 'byok/material');
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const read = statements.find((s: any) => s.Action === 'secretsmanager:GetSecretValue');
    expect(read.Resource['Fn::Join'][1].slice(-1)[0]).toEqual(':secretsmanager:us-east-1:111122223333:secret:byok/material-??????');
  });

  test('the import waits for the handler role\'s policy (its key policy comes with the key)', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const t = Template.fromStack(stack);
    const [policyId] = Object.entries(t.findResources('AWS::IAM::Policy')).find(([, p]: any) => JSON.stringify(p).includes('GetSecretValue'))!;
    t.hasResource(IMPORT_RESOURCE_TYPE, { DependsOn: Match.arrayWith([policyId]), Properties: Match.objectLike({ KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }) });
  });

  test('keyArn comes from the import, so an encrypted bucket is created only after the key holds material', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    new s3.Bucket(stack, 'Bucket', { encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] } } }] },
    });
  });

  test('grants go to the grantee policy and name the imported key', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    key.grantEncryptDecrypt(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Role') }],
      PolicyDocument: { Statement: [Match.objectLike({
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] },
      })] },
    });
  });

  test('a principal of another account is granted through the key policy', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    key.grantDecrypt(new iam.AccountPrincipal('444455556666'));
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Principal: { AWS: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':iam::444455556666:root'])] }) } })]) },
    });
  });

  test('alias, description, admins and pending window are applied', () => {
    const { stack, secret } = stackWithSecret();
    const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    const key = new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret), alias: 'alias/bluescape-workspace', description: 'partner key',
      admins: [admin], pendingWindow: Duration.days(7), removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addAlias('alias/second');
    const t = Template.fromStack(stack);
    t.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ Description: 'partner key', PendingWindowInDays: 7 }), DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/bluescape-workspace', TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] } });
    t.resourceCountIs('AWS::KMS::Alias', 2);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Admin') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['kms:Create*', 'kms:ScheduleKeyDeletion']) })] },
    });
  });

  test('addToResourcePolicy adds to the key policy', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    const result = key.addToResourcePolicy(new iam.PolicyStatement({ sid: 'Extra', actions: ['kms:DescribeKey'], principals: [new iam.AccountPrincipal('444455556666')], resources: ['*'] }));
    expect(result.statementAdded).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'Extra' })]) } });
  });

  test('it is a kms.IKey that other constructs accept', () => {
    const { stack, secret } = stackWithSecret();
    const key: kms.IKey = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    expect(key.keyRef.keyArn).toEqual(key.keyArn);
    expect(stack.resolve(key.keyId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^KeyImport/), 'KeyId'] });
  });

  test('expiry after a duration is sent as seconds, an absolute expiry as ISO time', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'A', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.after(Duration.days(90)) });
    const at = new Date(Date.now() + 30 * 86400_000);
    new ExternalKey(stack, 'B', { material: KeyMaterial.fromSecret(secret), expiration: KeyMaterialExpiration.at(at) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(90 * 86400) } });
    t.hasResourceProperties(IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: at.toISOString() } });
  });
});

describe('PartnerAccess', () => {
  test('no partner statement ever carries an administrative action, and the lockout safety check stays on', () => {
    const { stack, secret } = stackWithSecret();
    for (const [i, [keySpec, keyUsage]] of ([[kms.KeySpec.SYMMETRIC_DEFAULT, kms.KeyUsage.ENCRYPT_DECRYPT], [kms.KeySpec.RSA_3072, kms.KeyUsage.SIGN_VERIFY], [kms.KeySpec.HMAC_384, kms.KeyUsage.GENERATE_VERIFY_MAC], [kms.KeySpec.ECC_NIST_P384, kms.KeyUsage.KEY_AGREEMENT]] as const).entries()) {
      new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secret), keySpec, keyUsage, partners: [PartnerAccess.account('123456789012')] });
    }
    const admin = /^kms:(\*|Create(Key|Alias)|Put|Update|Enable|Disable|Delete|ScheduleKeyDeletion|CancelKeyDeletion|ImportKeyMaterial|TagResource|UntagResource|ReplicateKey|RotateKeyOnDemand)/;
    for (const key of Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')) as any[]) {
      expect(key.Properties.BypassPolicyLockoutSafetyCheck).toBeUndefined();
      const partner = key.Properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes('123456789012'));
      expect(partner).toHaveLength(key.Properties.KeySpec === 'SYMMETRIC_DEFAULT' ? 2 : 1);
      for (const s of partner) for (const a of [s.Action].flat()) expect(a).not.toMatch(admin);
    }
  });

  // The console's key users statements per key type ("Default key policy", key users; "Key policies for HMAC KMS keys").
  const usages: Array<[kms.KeySpec, kms.KeyUsage, string[], boolean]> = [
    [kms.KeySpec.SYMMETRIC_DEFAULT, kms.KeyUsage.ENCRYPT_DECRYPT, ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'], true],
    [kms.KeySpec.RSA_3072, kms.KeyUsage.ENCRYPT_DECRYPT, ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:DescribeKey', 'kms:GetPublicKey'], false],
    [kms.KeySpec.RSA_2048, kms.KeyUsage.SIGN_VERIFY, ['kms:Sign', 'kms:Verify', 'kms:DescribeKey', 'kms:GetPublicKey'], false],
    [kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.SIGN_VERIFY, ['kms:Sign', 'kms:Verify', 'kms:DescribeKey', 'kms:GetPublicKey'], false],
    [kms.KeySpec.HMAC_256, kms.KeyUsage.GENERATE_VERIFY_MAC, ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'], false],
    [kms.KeySpec.ECC_NIST_P256, kms.KeyUsage.KEY_AGREEMENT, ['kms:DeriveSharedSecret', 'kms:DescribeKey', 'kms:GetPublicKey'], false],
  ];
  test.each(usages)('a %s key with usage %s gets exactly the console\'s partner statements (grant statement: %p)', (keySpec, keyUsage, actions, grants) => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), keySpec, keyUsage, partners: [PartnerAccess.account('123456789012')] });
    const key = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0] as any;
    const partner = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Sid?.includes('Partner'));
    const root = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } };
    expect(partner).toEqual([
      { Sid: 'AllowUseOfTheKeyByPartner123456789012', Effect: 'Allow', Action: actions, Resource: '*', Principal: root },
      ...(grants ? [{ Sid: 'AllowAttachmentOfPersistentResourcesByPartner123456789012', Effect: 'Allow', Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'], Resource: '*', Principal: root, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }] : []),
    ]);
  });

  test('asking for the grant statement on a key that is not a symmetric encryption key is an error', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      partners: [PartnerAccess.account('123456789012', { allowGrantsForAwsResources: true })],
    })).toThrow(/^\[PartnerGrants\] allowGrantsForAwsResources is for symmetric encryption keys only, not a HMAC_256 key with usage GENERATE_VERIFY_MAC/);
  });

  test('partner access can be narrowed to principals and services, and never includes admin actions', () => {
    const { stack, secret } = stackWithSecret();
    const role = 'arn:aws:iam::123456789012:role/bluescape-app';
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret),
      partners: [PartnerAccess.account('123456789012', { principalArns: [role], viaServices: ['s3.us-east-1.amazonaws.com'], allowGrantsForAwsResources: false })],
    });
    const key = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0] as any;
    const partner = key.Properties.KeyPolicy.Statement.filter((s: any) => s.Sid?.includes('Partner'));
    expect(partner).toEqual([{
      Sid: 'AllowUseOfTheKeyByPartner123456789012', Effect: 'Allow', Resource: '*', Principal: { AWS: role },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Condition: { StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com'] } },
    }]);
  });
});
