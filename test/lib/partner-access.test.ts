import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, PartnerAccess } from '../../lib';
import { stackWithSecret } from './helpers';

/** The key policy statements of the one ExternalKey in the stack. */
function keyStatements(stack: Stack): any[] {
  const [key] = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key')) as any[];
  return key.Properties.KeyPolicy.Statement;
}

function build(partner: (stack: Stack) => PartnerAccess) {
  const { stack, secret } = stackWithSecret();
  new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), partners: [partner(stack)] });
  return stack;
}

describe('PartnerAccess.account', () => {
  test('by default the whole partner account may use the key and attach it to AWS resources', () => {
    const stack = build(() => PartnerAccess.account('123456789012'));
    const partner = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    expect(partner.map((s) => s.Sid)).toEqual(['AllowUseOfTheKeyByPartner123456789012', 'AllowAttachmentOfPersistentResourcesByPartner123456789012']);
    expect(partner[0].Condition).toBeUndefined();
    expect(partner[1].Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
    expect(JSON.stringify(partner[0].Principal)).toContain(':iam::123456789012:root');
  });

  test('viaServices restricts both statements to those services, keeping the grant condition', () => {
    const stack = build(() => PartnerAccess.account('123456789012', { viaServices: ['s3.us-east-1.amazonaws.com', 'ebs.us-east-1.amazonaws.com'] }));
    const [use, attach] = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    const via = { StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com', 'ebs.us-east-1.amazonaws.com'] } };
    expect(use.Condition).toEqual(via);
    expect(attach.Condition).toEqual({ ...via, Bool: { 'kms:GrantIsForAWSResource': 'true' } });
  });

  test('an empty viaServices list means no service restriction', () => {
    const stack = build(() => PartnerAccess.account('123456789012', { viaServices: [] }));
    const [use] = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    expect(use.Condition).toBeUndefined();
  });

  test('an account id that is a token is not checked at synth time', () => {
    const stack = build((s) => PartnerAccess.account(new CfnParameter(s, 'PartnerAccount').valueAsString));
    const partner = keyStatements(stack).filter((s) => JSON.stringify(s.Principal ?? {}).includes('PartnerAccount'));
    expect(partner).toHaveLength(2);
  });

  test.each(['12345678901', '1234567890123', '12345678901a', ''])('account id %p is refused: it is not 12 digits', (accountId) => {
    expect(() => build(() => PartnerAccess.account(accountId))).toThrow(`[PartnerAccountId] partner account id '${accountId}' is not valid: an AWS account id is exactly 12 digits`);
  });

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

  test('partner access never includes admin actions, and grants can be turned off', () => {
    const stack = build(() => PartnerAccess.account('123456789012', { allowGrantsForAwsResources: false }));
    const partner = keyStatements(stack).filter((s) => String(s.Sid).includes('Partner'));
    expect(partner).toEqual([{
      Sid: 'AllowUseOfTheKeyByPartner123456789012', Effect: 'Allow', Resource: '*', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    }]);
  });

  test('grants for AWS resources on an HMAC key are refused', () => {
    const { stack, secret } = stackWithSecret();
    expect(() => new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret), keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      partners: [PartnerAccess.account('123456789012', { allowGrantsForAwsResources: true })],
    })).toThrow(/^\[PartnerGrants\] allowGrantsForAwsResources is for symmetric encryption keys only, not a HMAC_256 key with usage GENERATE_VERIFY_MAC/);
  });
});

const ROLE = 'arn:aws:iam::123456789012:role/vendor/app';

/** The partner statements of the key (every statement whose Sid names a partner). */
function partnerStatements(stack: Stack): any[] {
  return keyStatements(stack).filter((s) => String(s.Sid).includes('ByPartner'));
}

describe('PartnerAccess.principal', () => {
  test('a role of the partner account gets the console\'s statements for the key type, and only that role', () => {
    const stack = build(() => PartnerAccess.principal(new iam.ArnPrincipal(ROLE), { viaServices: ['s3.us-east-1.amazonaws.com'] }));
    const [use, attach, ...rest] = partnerStatements(stack);
    expect(rest).toEqual([]);
    expect(use).toEqual({
      Sid: expect.stringMatching(/^AllowUseOfTheKeyByPartnerPrincipal[0-9A-F]{8}$/), Effect: 'Allow', Resource: '*', Principal: { AWS: ROLE },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Condition: { StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com'] } },
    });
    expect(attach).toMatchObject({ Sid: expect.stringMatching(/^AllowAttachmentOfPersistentResourcesByPartnerPrincipal/), Principal: { AWS: ROLE }, Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'] });
  });

  test('a role construct, a user and a composite of both are named by their ARNs; the partner account is the principals\'', () => {
    let access: PartnerAccess | undefined;
    const user = 'arn:aws:iam::123456789012:user/ops';
    const stack = build((s) => {
      access = PartnerAccess.principal(new iam.CompositePrincipal(iam.Role.fromRoleArn(s, 'PartnerRole', ROLE), new iam.ArnPrincipal(user)));
      return access;
    });
    expect(partnerStatements(stack)[0].Principal).toEqual({ AWS: [ROLE, user] });
    expect(PartnerAccess.principal(new iam.ArnPrincipal(ROLE)).accountId).toBe('123456789012');
    expect(PartnerAccess.account('123456789012').accountId).toBe('123456789012');
  });

  test('two principals of one partner get statements of their own', () => {
    const { stack, secret } = stackWithSecret();
    new ExternalKey(stack, 'Key', {
      material: KeyMaterial.fromSecret(secret),
      partners: [PartnerAccess.principal(new iam.ArnPrincipal(ROLE)), PartnerAccess.principal(new iam.ArnPrincipal('arn:aws:iam::123456789012:role/other'))],
    });
    const sids = partnerStatements(stack).map((s) => s.Sid);
    expect(sids).toHaveLength(4);
    expect(new Set(sids).size).toBe(4);
  });

  test('a principal ARN that is a token is left to IAM and used as given', () => {
    const stack = build((s) => PartnerAccess.principal(new iam.ArnPrincipal(new CfnParameter(s, 'PartnerRole').valueAsString)));
    expect(partnerStatements(stack)[0].Principal).toEqual({ AWS: { Ref: 'PartnerRole' } });
  });

  test.each([
    ['a group', 'arn:aws:iam::123456789012:group/admins'],
    ['an STS session', 'arn:aws:sts::123456789012:assumed-role/r/s'],
    ['a bare role without a name', 'arn:aws:iam::123456789012:role/'],
  ])('%s ARN is refused as a partner principal', (_what, arn) => {
    expect(() => build(() => PartnerAccess.principal(new iam.ArnPrincipal(arn)))).toThrow(`[PartnerAccountId] partner principal '${arn}' is not an account id, or a role, user or root ARN`);
  });

  test.each([
    ['a service', () => new iam.ServicePrincipal('s3.amazonaws.com'), /it names Service/],
    ['a federated identity', () => new iam.FederatedPrincipal('cognito-identity.amazonaws.com'), /it names Federated/],
    ['an organization', () => new iam.OrganizationPrincipal('o-abc1234567'), /with conditions/],
    ['a principal with conditions', () => new iam.ArnPrincipal(ROLE).withConditions({ Bool: { 'aws:SecureTransport': 'true' } }), /with conditions/],
  ])('%s is refused as a partner principal', (_what, principal, why) => {
    expect(() => build(() => PartnerAccess.principal(principal()))).toThrow(/^\[PartnerAccountId\] partner principal .* is not an AWS account, role or user without conditions/);
    expect(() => build(() => PartnerAccess.principal(principal()))).toThrow(why);
  });

  test.each([
    ['anyone', () => new iam.AnyPrincipal()],
    ['the star principal', () => new iam.StarPrincipal()],
  ])('%s is refused as a partner principal', (_what, principal) => {
    expect(() => build(() => PartnerAccess.principal(principal()))).toThrow(/^\[PartnerAccountId\] partner principal '\*' would let anyone use the key/);
  });

  test('a principal of the key\'s own account is refused: grant it through IAM instead', () => {
    expect(() => build(() => PartnerAccess.principal(new iam.ArnPrincipal('arn:aws:iam::111122223333:role/local'))))
      .toThrow(/^\[PartnerAccountId\] partner account 111122223333 is the key's own account/);
    expect(() => build((s) => PartnerAccess.principal(new iam.Role(s, 'Local', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }))))
      .toThrow(/^\[PartnerAccountId\] partner account 111122223333 is the key's own account/);
  });
});
