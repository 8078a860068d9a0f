import { Duration, PropertyInjectors, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ErrorCodes, ExternalKey, ExternalKeyProps, ExternalKeyReplica, ExternalKeyReplicaProps, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, PrimaryKey, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
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
    Template.fromStack(stack).hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, {
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
    template.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { ServiceTimeout: '1200' });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900 });
  });

  test('wrapping algorithm, wrapping key size and encoding can be chosen', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret, { encoding: KeyMaterialEncoding.HEX }),
      wrappingAlgorithm: WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1,
      wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
    Template.fromStack(stack).hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, {
      WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_1', WrappingKeySpec: 'RSA_2048', Material: Match.objectLike({ Encoding: 'HEX' }),
    });
  });

  test('one handler Lambda serves every key in a stack', () => {
    const { stack, secret } = stackWithSecret();
    for (const id of ['A', 'B', 'C']) new ExternalKey(stack, id, { material: KeyMaterial.fromSecret(secret) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.resourceCountIs('AWS::KMS::Key', 3);
    t.resourceCountIs(ExternalKey.IMPORT_RESOURCE_TYPE, 3);
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
    t.hasResource(ExternalKey.IMPORT_RESOURCE_TYPE, { DependsOn: Match.arrayWith([policyId]), Properties: Match.objectLike({ KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }) });
  });

  test('keyArn comes from the import, so an encrypted bucket is created only after the key holds material', () => {
    const { stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    new s3.Bucket(stack, 'Bucket', { encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] } } }] },
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
      material: KeyMaterial.fromSecret(secret), alias: 'alias/partner-workspace', description: 'partner key',
      admins: [admin], pendingWindow: Duration.days(7), removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addAlias('alias/second');
    const t = Template.fromStack(stack);
    t.hasResource('AWS::KMS::Key', { Properties: Match.objectLike({ Description: 'partner key', PendingWindowInDays: 7 }), DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/partner-workspace', TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KeyImport'), 'KeyArn'] } });
    t.resourceCountIs('AWS::KMS::Alias', 2);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Admin') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: Match.arrayWith(['kms:Create*', 'kms:ScheduleKeyDeletion']) })] },
    });
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
    t.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(90 * 86400) } });
    t.hasResourceProperties(ExternalKey.IMPORT_RESOURCE_TYPE, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: at.toISOString() } });
  });
});

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

describe('what kms.Key users expect', () => {
  test('an initial key policy is kept, next to the account root and the import function\'s statements', () => {
    const { stack, secret } = stackWithSecret();
    const policy = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ sid: 'Auditor', principals: [new iam.AccountPrincipal('444455556666')], actions: ['kms:DescribeKey'], resources: ['*'] })] });
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), policy });
    const [key] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')) as any[];
    expect(key.Properties.KeyPolicy.Statement.map((s: any) => s.Sid)).toEqual(['Auditor', 'EnableIAMUserPermissions', 'AllowKeyMaterialImportByCdkKmsByok']);
  });

  test('a key policy statement a key policy cannot have fails the synth, as for kms.Key', () => {
    const { app, stack, secret } = stackWithSecret();
    const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    key.addToResourcePolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/A PolicyStatement used in a resource-based policy must specify at least one IAM principal/);
  });

  test('a key without material is refused with what to pass, also for JavaScript callers that skip the type check', () => {
    const { stack } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', {} as any)).toThrow(/^\[InvalidProperty\] material is required: say where the key material comes from, e.g. KeyMaterial.fromSecret\(secret\) \(at TestStack\/Key\)$/);
    expect(() => new ExternalKey(stack, 'Key2', undefined as any)).toThrow(/^\[InvalidProperty\] material is required/);
  });

  test('property injectors reach both key classes by their PROPERTY_INJECTION_ID', () => {
    const { app, stack, secret } = stackWithSecret();
    PropertyInjectors.of(app).add(
      { constructUniqueId: ExternalKey.PROPERTY_INJECTION_ID, inject: (props: ExternalKeyProps) => ({ description: 'injected key', ...props }) },
      { constructUniqueId: ExternalKeyReplica.PROPERTY_INJECTION_ID, inject: (props: ExternalKeyReplicaProps) => ({ description: 'injected replica', ...props }) },
    );
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    new ExternalKeyReplica(stack, 'Replica', { material: KeyMaterial.fromSecret(secret), primaryKey: PrimaryKey.fromKeyArn('arn:aws:kms:eu-west-1:111122223333:key/mrk-1') });
    expect([ExternalKey.PROPERTY_INJECTION_ID, ExternalKeyReplica.PROPERTY_INJECTION_ID]).toEqual(['cdk-kms-byok.ExternalKey', 'cdk-kms-byok.ExternalKeyReplica']);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::KMS::Key', { Description: 'injected key' });
    t.hasResourceProperties('AWS::KMS::ReplicaKey', { Description: 'injected replica' });
  });

  test('the import resource type and the error codes are public, for tests and callers in any language', () => {
    expect(ExternalKey.IMPORT_RESOURCE_TYPE).toBe('Custom::KmsKeyMaterialImport');
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret) });
    Template.fromStack(stack).resourceCountIs(ExternalKey.IMPORT_RESOURCE_TYPE, 1);
    const { stack: elsewhere, secret: s2 } = stackWithSecret({ account: '111122223333', region: 'mars-1' });
    expect(() => new ExternalKey(elsewhere, 'Key', { material: KeyMaterial.fromSecret(s2) })).toThrow(new RegExp(`^\\[${ErrorCodes.REGION}\\] `));
    expect(ErrorCodes.REGION).toBe('Region');
  });
});
