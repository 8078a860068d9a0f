import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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

describe('PartnerAccess', () => {
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

  test('an empty principalArns list means the partner account root', () => {
    const stack = build(() => PartnerAccess.account('123456789012', { principalArns: [] }));
    const [use] = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    expect(JSON.stringify(use.Principal)).toContain(':iam::123456789012:root');
  });

  test('role, user and root ARNs of the partner account, in any partition, are accepted as principals', () => {
    const arns = ['arn:aws:iam::123456789012:role/vendor/app', 'arn:aws:iam::123456789012:user/ops', 'arn:aws-us-gov:iam::123456789012:root'];
    const stack = build(() => PartnerAccess.account('123456789012', { principalArns: arns }));
    const [use] = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    expect(use.Principal).toEqual({ AWS: arns });
  });

  test.each([
    ['a group', 'arn:aws:iam::123456789012:group/admins'],
    ['an STS session', 'arn:aws:sts::123456789012:assumed-role/r/s'],
    ['a bare role without a name', 'arn:aws:iam::123456789012:role/'],
  ])('%s ARN is refused as a partner principal', (_what, arn) => {
    expect(() => build(() => PartnerAccess.account('123456789012', { principalArns: [arn] }))).toThrow(`[PartnerAccountId] partner principal '${arn}' is not a role, user or root ARN of partner account 123456789012`);
  });

  test('a principal ARN that is a token is left to IAM and used as given', () => {
    const stack = build((s) => PartnerAccess.account('123456789012', { principalArns: [new CfnParameter(s, 'PartnerRole').valueAsString] }));
    const [use] = keyStatements(stack).filter((s) => String(s.Sid).endsWith('123456789012'));
    expect(use.Principal).toEqual({ AWS: { Ref: 'PartnerRole' } });
  });

  test('an account id that is a token is not checked at synth time', () => {
    const stack = build((s) => PartnerAccess.account(new CfnParameter(s, 'PartnerAccount').valueAsString));
    const partner = keyStatements(stack).filter((s) => JSON.stringify(s.Principal ?? {}).includes('PartnerAccount'));
    expect(partner).toHaveLength(2);
  });

  test.each(['12345678901', '1234567890123', '12345678901a', ''])('account id %p is refused: it is not 12 digits', (accountId) => {
    expect(() => build(() => PartnerAccess.account(accountId))).toThrow(`[PartnerAccountId] partner account id '${accountId}' is not valid: an AWS account id is exactly 12 digits`);
  });
});
