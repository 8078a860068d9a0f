import { AuthorizationRequest, PolicyDocument, PolicyStatement, accessDeniedMessage, evaluate } from '../../testing/iam';
import { PrincipalRegistry, identifyCaller, parseSigV4Authorization } from '../../testing/iam';

const OWNER = '111122223333';
const PARTNER = '444455556666';
const KEY = `arn:aws:kms:eu-west-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${OWNER}:role/Importer`;
const PARTNER_ROLE = `arn:aws:iam::${PARTNER}:role/PartnerApp`;

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const allow = (extra: Partial<PolicyStatement>): PolicyStatement => ({ Effect: 'Allow', Action: 'kms:*', Resource: '*', ...extra });
const ROOT_DELEGATION = allow({ Sid: 'Enable IAM User Permissions', Principal: { AWS: `arn:aws:iam::${OWNER}:root` } });

function request(over: Partial<AuthorizationRequest> & { identity?: PolicyStatement[] }): AuthorizationRequest {
  const { identity, ...rest } = over;
  const principalArn = rest.principal?.arn ?? ROLE;
  return {
    principal: { arn: principalArn, account: principalArn.split(':')[4], callerArn: `arn:aws:sts::${principalArn.split(':')[4]}:assumed-role/X/s` },
    action: 'kms:Decrypt',
    resource: KEY,
    resourceAccount: OWNER,
    mode: 'kms',
    identityPolicies: identity ? [doc(...identity)] : [],
    ...rest,
  };
}

describe('KMS mode', () => {
  test('a key policy statement naming the role allows it with no identity policy', () => {
    const d = evaluate(request({ resourcePolicy: doc(allow({ Principal: { AWS: ROLE }, Action: 'kms:Decrypt' })) }));
    expect(d).toMatchObject({ allowed: true });
  });

  test('an identity policy alone does not allow when the key policy does not delegate to the account', () => {
    const d = evaluate(request({ resourcePolicy: doc(allow({ Principal: { AWS: 'arn:aws:iam::111122223333:role/Other' } })), identity: [allow({})] }));
    expect(d).toMatchObject({ allowed: false, reason: 'no-allow', policyType: 'resource-based' });
  });

  test('an identity policy allows when the key policy delegates to the account root', () => {
    expect(evaluate(request({ resourcePolicy: doc(ROOT_DELEGATION), identity: [allow({ Action: 'kms:Decrypt', Resource: KEY })] })).allowed).toBe(true);
  });

  test('delegation without an identity Allow is refused, blaming the identity-based policy', () => {
    const d = evaluate(request({ resourcePolicy: doc(ROOT_DELEGATION), identity: [allow({ Action: 'kms:Encrypt' })] }));
    expect(d).toMatchObject({ allowed: false, reason: 'no-allow', policyType: 'identity-based' });
  });

  test('the account root is allowed by the delegation statement alone', () => {
    const root = { arn: `arn:aws:iam::${OWNER}:root`, account: OWNER };
    expect(evaluate(request({ principal: root, resourcePolicy: doc(ROOT_DELEGATION) })).allowed).toBe(true);
  });

  test('an identity Deny wins even without delegation, and a key policy Deny wins over everything', () => {
    const idDeny = evaluate(request({ resourcePolicy: doc(allow({ Principal: { AWS: ROLE } })), identity: [{ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] }));
    expect(idDeny).toMatchObject({ allowed: false, reason: 'explicit-deny', policyType: 'identity-based' });
    const keyDeny = evaluate(request({
      resourcePolicy: doc(ROOT_DELEGATION, { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }),
      identity: [allow({})],
      grantedBy: 'grant-1',
    }));
    expect(keyDeny).toMatchObject({ allowed: false, reason: 'explicit-deny', policyType: 'resource-based' });
  });

  test('across accounts both the key policy and the caller identity policy must allow', () => {
    const keyPolicy = doc(ROOT_DELEGATION, allow({ Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: ['kms:Decrypt', 'kms:DescribeKey'] }));
    const partner = { arn: PARTNER_ROLE, account: PARTNER };
    expect(evaluate(request({ principal: partner, resourcePolicy: keyPolicy, identity: [allow({ Action: 'kms:Decrypt', Resource: KEY })] })).allowed).toBe(true);
    expect(evaluate(request({ principal: partner, resourcePolicy: keyPolicy }))).toMatchObject({ allowed: false, policyType: 'identity-based' });
    expect(evaluate(request({ principal: partner, resourcePolicy: keyPolicy, action: 'kms:Encrypt', identity: [allow({})] })))
      .toMatchObject({ allowed: false, policyType: 'resource-based' });
    // Naming the partner role itself still needs the partner's identity Allow across accounts.
    const named = doc(allow({ Principal: { AWS: PARTNER_ROLE }, Action: 'kms:Decrypt' }));
    expect(evaluate(request({ principal: partner, resourcePolicy: named })).allowed).toBe(false);
  });

  test('a grant allows across accounts without an identity policy', () => {
    const partner = { arn: PARTNER_ROLE, account: PARTNER };
    expect(evaluate(request({ principal: partner, resourcePolicy: doc(ROOT_DELEGATION), grantedBy: 'g' })).allowed).toBe(true);
  });
});

describe('resource-or-identity mode (Secrets Manager)', () => {
  const SECRET = `arn:aws:secretsmanager:eu-west-1:${OWNER}:secret:material-AbCdEf`;
  const base = { mode: 'resource-or-identity' as const, action: 'secretsmanager:GetSecretValue', resource: SECRET };

  test('within one account an identity policy alone allows', () => {
    expect(evaluate(request({ ...base, identity: [allow({ Action: 'secretsmanager:GetSecretValue', Resource: SECRET })] })).allowed).toBe(true);
  });

  test('within one account a resource policy naming the role alone allows', () => {
    expect(evaluate(request({ ...base, resourcePolicy: doc(allow({ Principal: { AWS: ROLE }, Action: 'secretsmanager:*' })) })).allowed).toBe(true);
  });

  test('across accounts without a resource policy the resource-based policy is blamed', () => {
    const partner = { arn: PARTNER_ROLE, account: PARTNER };
    const d = evaluate(request({ ...base, principal: partner, identity: [allow({ Action: 'secretsmanager:*' })] }));
    expect(d).toMatchObject({ allowed: false, policyType: 'resource-based' });
  });
});

describe('matching', () => {
  const keyPolicy = (s: Partial<PolicyStatement>) => doc(allow({ Principal: { AWS: ROLE }, ...s }));

  test('action wildcards are case-insensitive; NotAction excludes', () => {
    expect(evaluate(request({ action: 'kms:ReEncryptFrom', resourcePolicy: keyPolicy({ Action: 'KMS:reencrypt*' }) })).allowed).toBe(true);
    expect(evaluate(request({ action: 'kms:GenerateDataKey', resourcePolicy: keyPolicy({ Action: 'kms:GenerateDataKey?' }) })).allowed).toBe(false);
    expect(evaluate(request({ action: 'kms:Decrypt', resourcePolicy: keyPolicy({ Action: undefined, NotAction: 'kms:Decrypt' }) })).allowed).toBe(false);
    expect(evaluate(request({ action: 'kms:Encrypt', resourcePolicy: keyPolicy({ Action: undefined, NotAction: 'kms:Decrypt' }) })).allowed).toBe(true);
  });

  test('resource ARNs match segment by segment, and NotResource excludes', () => {
    expect(evaluate(request({ resourcePolicy: keyPolicy({ Resource: 'arn:aws:kms:*:111122223333:key/*' }) })).allowed).toBe(true);
    expect(evaluate(request({ resourcePolicy: keyPolicy({ Resource: 'arn:aws:kms:*:444455556666:key/*' }) })).allowed).toBe(false);
    expect(evaluate(request({ resourcePolicy: keyPolicy({ Resource: undefined, NotResource: KEY }) })).allowed).toBe(false);
  });

  test('a role session is matched by its role ARN; NotPrincipal excludes', () => {
    expect(evaluate(request({ resourcePolicy: doc(allow({ Principal: { AWS: [ROLE] } })) })).allowed).toBe(true);
    expect(evaluate(request({ resourcePolicy: doc(allow({ NotPrincipal: { AWS: ROLE } })) })).allowed).toBe(false);
    expect(evaluate(request({ resourcePolicy: doc(allow({ Principal: { Service: 'lambda.amazonaws.com' } })) })).allowed).toBe(false);
  });
});

describe('conditions', () => {
  const withCondition = (Condition: PolicyStatement['Condition'], context: AuthorizationRequest['context'] = {}) =>
    evaluate(request({ context, resourcePolicy: doc(allow({ Principal: '*', Condition })) }));

  test('StringEquals and StringLike on kms:ViaService', () => {
    expect(withCondition({ StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } }, { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' }).allowed).toBe(true);
    expect(withCondition({ StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } }).allowed).toBe(false);
    expect(withCondition({ StringLike: { 'kms:ViaService': 'secretsmanager.*.amazonaws.com' } }, { 'kms:viaservice': 'secretsmanager.us-east-1.amazonaws.com' }).allowed).toBe(true);
  });

  test('a missing key: positive operators fail, negated operators and IfExists match', () => {
    expect(withCondition({ StringNotEquals: { 'kms:ViaService': 'x' } }).allowed).toBe(true);
    expect(withCondition({ StringEqualsIfExists: { 'kms:ViaService': 'x' } }).allowed).toBe(true);
    expect(withCondition({ StringEqualsIfExists: { 'kms:ViaService': 'x' } }, { 'kms:ViaService': 'y' }).allowed).toBe(false);
    expect(withCondition({ Bool: { 'kms:GrantIsForAWSResource': 'true' } }).allowed).toBe(false);
  });

  test('Bool, Null, Numeric and Date', () => {
    expect(withCondition({ Bool: { 'kms:GrantIsForAWSResource': 'true' } }, { 'kms:GrantIsForAWSResource': true }).allowed).toBe(true);
    expect(withCondition({ Bool: { 'kms:GrantIsForAWSResource': 'true' } }, { 'kms:GrantIsForAWSResource': false }).allowed).toBe(false);
    expect(withCondition({ Null: { 'kms:ViaService': 'true' } }).allowed).toBe(true);
    expect(withCondition({ Null: { 'kms:ViaService': 'false' } }).allowed).toBe(false);
    expect(withCondition({ NumericLessThanEquals: { 'aws:EpochTime': '100' } }, { 'aws:EpochTime': '99' }).allowed).toBe(true);
    expect(withCondition({ DateLessThan: { 'kms:ValidTo': '2027-01-01T00:00:00Z' } }, { 'kms:ValidTo': '1798761600' }).allowed).toBe(false);
    expect(withCondition({ DateLessThan: { 'kms:ValidTo': '2027-01-01T00:00:00Z' } }, { 'kms:ValidTo': '1767225600' }).allowed).toBe(true);
  });

  test('aws:PrincipalAccount, aws:PrincipalArn and aws:PrincipalOrgID come from the caller', () => {
    expect(withCondition({ StringEquals: { 'aws:PrincipalAccount': OWNER } }).allowed).toBe(true);
    expect(withCondition({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Imp*' } }).allowed).toBe(true);
    expect(withCondition({ StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } }).allowed).toBe(false);
    const inOrg = request({ resourcePolicy: doc(allow({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc' } } })) });
    inOrg.principal.orgId = 'o-abc';
    expect(evaluate(inOrg).allowed).toBe(true);
  });

  test('ForAnyValue and ForAllValues over a multivalued key', () => {
    const ctx = { 'kms:EncryptionContextKeys': ['purpose', 'tenant'] };
    expect(withCondition({ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }, ctx).allowed).toBe(true);
    expect(withCondition({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }, ctx).allowed).toBe(false);
    expect(withCondition({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant', 'purpose'] } }, ctx).allowed).toBe(true);
    expect(withCondition({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }).allowed).toBe(true);
    expect(withCondition({ 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['tenant'] } }).allowed).toBe(false);
  });

  test('kms:EncryptionContext:<key> is known for any key name', () => {
    expect(withCondition({ StringEquals: { 'kms:EncryptionContext:tenant': 'a' } }, { 'kms:EncryptionContext:tenant': 'a' }).allowed).toBe(true);
  });

  test('an unknown condition key fails closed: an Allow does not apply and the key is named', () => {
    const d = withCondition({ StringEquals: { 'kms:MadeUpKey': 'x' } }, { 'kms:MadeUpKey': 'x' });
    expect(d.allowed).toBe(false);
    expect(d.diagnostics.join('\n')).toMatch(/condition key kms:MadeUpKey is not known/);
  });

  test('an unknown operator or a policy variable fails closed, and a Deny with one applies', () => {
    expect(withCondition({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }).diagnostics.join()).toMatch(/operator IpAddress is not supported/);
    const d = evaluate(request({
      resourcePolicy: doc(allow({ Principal: { AWS: ROLE } }), { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:username': '${aws:username}' } } }),
    }));
    expect(d).toMatchObject({ allowed: false, reason: 'explicit-deny' });
    expect(d.diagnostics.join()).toMatch(/policy variable \$\{aws:username\}/);
  });
});

describe('messages', () => {
  test('AWS wording for no allow and for an explicit deny', () => {
    const r = request({});
    expect(accessDeniedMessage(r, { allowed: false, reason: 'no-allow', policyType: 'resource-based', diagnostics: [] })).toBe(
      `User: arn:aws:sts::${OWNER}:assumed-role/X/s is not authorized to perform: kms:Decrypt on resource: ${KEY} because no resource-based policy allows the kms:Decrypt action`,
    );
    expect(accessDeniedMessage(r, { allowed: false, reason: 'explicit-deny', policyType: 'identity-based', diagnostics: [] })).toBe(
      `User: arn:aws:sts::${OWNER}:assumed-role/X/s is not authorized to perform: kms:Decrypt on resource: ${KEY} with an explicit deny in an identity-based policy`,
    );
  });
});

describe('principals', () => {
  test('a registered role gets an access key id, a session caller ARN and its policies', () => {
    const registry = new PrincipalRegistry();
    const creds = registry.credentialsFor('arn:aws:iam::444455556666:role/team/PartnerApp', { identityPolicies: [doc(allow({}))] });
    const p = registry.byAccessKeyId(creds.accessKeyId)!;
    expect(creds.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(p).toMatchObject({ account: '444455556666', callerArn: 'arn:aws:sts::444455556666:assumed-role/PartnerApp/local-session' });
    expect(p.identityPolicies).toHaveLength(1);
    expect(registry.credentialsFor('arn:aws:iam::444455556666:role/team/PartnerApp').accessKeyId).toBe(creds.accessKeyId);
    expect(() => registry.register('arn:aws:s3:::bucket')).toThrow(/not an IAM role, user or account root ARN/);
  });

  test('a caller is its registered principal, else the root of the account its access key id maps to', () => {
    const registry = new PrincipalRegistry();
    const { accessKeyId } = registry.credentialsFor(PARTNER_ROLE);
    const header = (akid: string, region = 'cn-north-1') => `AWS4-HMAC-SHA256 Credential=${akid}/20261203/${region}/kms/aws4_request, SignedHeaders=host, Signature=abc`;
    const defaults = { accounts: { AKIAMAPPED: '999988887777' }, defaultAccount: OWNER, defaultRegion: 'us-east-1' };
    expect(identifyCaller(registry, header(accessKeyId), defaults).principal.arn).toBe(PARTNER_ROLE);
    expect(identifyCaller(registry, header('AKIAMAPPED'), defaults)).toEqual({ region: 'cn-north-1', principal: { arn: 'arn:aws-cn:iam::999988887777:root', account: '999988887777' } });
    expect(identifyCaller(registry, undefined, defaults)).toEqual({ region: 'us-east-1', principal: { arn: `arn:aws:iam::${OWNER}:root`, account: OWNER } });
  });

  test('the access key id and Region are read from a SigV4 Authorization header', () => {
    const header = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261203/eu-west-1/kms/aws4_request, SignedHeaders=host, Signature=abc';
    expect(parseSigV4Authorization(header)).toEqual({ accessKeyId: 'AKIAEXAMPLE', region: 'eu-west-1', service: 'kms' });
    expect(parseSigV4Authorization(undefined)).toBeUndefined();
  });
});
