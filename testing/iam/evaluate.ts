/**
 * A small IAM policy evaluator for the local cloud: decides whether a principal may perform an
 * action on a resource, given the principal's identity policies and the resource's policy, the way
 * AWS documents it ("Policy evaluation logic", IAM User Guide,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 *
 * Evaluated:
 * - explicit Deny in any policy wins over every Allow (and over grants);
 * - identity policies (inline and managed documents) and one resource policy (a key policy, a
 *   secret's resource policy); Action/NotAction, Resource/NotResource, Principal/NotPrincipal with
 *   `*` and `?` wildcards (actions case-insensitive, ARNs segment by segment as ArnLike does);
 * - a resource-policy statement that names an account (`"AWS": "111122223333"` or its `:root` ARN)
 *   delegates to that account's identity policies: it allows only together with an identity Allow
 *   ("Specifying a principal": "AWS account principals", IAM User Guide);
 * - `mode: 'kms'`: identity policies count only where the key policy delegates to the caller's
 *   account ("Key policies in AWS KMS", KMS Developer Guide); `mode: 'resource-or-identity'`
 *   (Secrets Manager and most services): within one account either side may allow;
 * - across accounts both sides must allow: the resource policy (naming the caller or its account)
 *   and the caller's identity policies ("Cross-account policy evaluation logic", IAM User Guide);
 * - `grantedBy`: a KMS grant that covers the request allows like a key-policy statement naming the
 *   caller (the caller needs no identity policy for it, even across accounts);
 * - Condition operators String*, Arn*, Bool, Null, Numeric*, Date*, the `IfExists` suffix and the
 *   `ForAnyValue:` / `ForAllValues:` qualifiers, with AWS's rule for a key missing from the request
 *   (positive operators fail, negated operators match, `...IfExists` matches).
 *
 * Fails closed: a condition key the evaluator does not know (see `KNOWN_CONDITION_KEYS`), an
 * unsupported operator (IpAddress, Binary*) or a policy variable (`${aws:username}`) makes an Allow
 * statement not apply and a Deny statement apply, and names the key, operator or variable in
 * `diagnostics`. It never silently allows.
 *
 * Not evaluated (out): service control policies and resource control policies (AWS
 * Organizations), permission boundaries, session policies, VPC endpoint policies, and the
 * caller's signature (the kit reads the access key id from the SigV4 Authorization header and
 * checks no signature, see principals.ts). A local principal has exactly the identity policies
 * registered for it.
 */

/** A value in the request context; numbers and dates travel as strings, as in IAM. */
export type ContextValue = string | string[] | boolean;
export type ContextKeys = Record<string, ContextValue>;

/** One policy statement, as written in JSON. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** Who makes the request. */
export interface Principal {
  /**
   * The IAM identity: `arn:aws:iam::A:role/R` (a role session's role), `arn:aws:iam::A:user/U`
   * or `arn:aws:iam::A:root`. This is `aws:PrincipalArn` and what resource policies name.
   */
  arn: string;
  /** What AWS shows as the caller in messages: `arn:aws:sts::A:assumed-role/R/session` for a role. @default arn */
  callerArn?: string;
  account: string;
  /** `aws:PrincipalOrgID`. @default - the principal is in no organization (the key is absent) */
  orgId?: string;
  /** Identity policies attached to the principal (inline and managed). @default [] */
  identityPolicies?: PolicyDocument[];
}

export type EvaluationMode = 'kms' | 'resource-or-identity';

export interface AuthorizationRequest {
  principal: Principal;
  /** `service:Operation`, e.g. `kms:Decrypt`. */
  action: string;
  /** The resource ARN. */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  /** Request-specific keys (`kms:ViaService`, `kms:EncryptionContext:purpose`, ...); `aws:Principal*` keys are added from `principal`. */
  context?: ContextKeys;
  /** @default principal.identityPolicies */
  identityPolicies?: PolicyDocument[];
  /** The key policy or the resource's policy. @default - none */
  resourcePolicy?: PolicyDocument;
  mode: EvaluationMode;
  /** A KMS grant that allows this request (its id, for the diagnostics). @default - none */
  grantedBy?: string;
}

export type PolicyType = 'identity-based' | 'resource-based';

export interface Decision {
  allowed: boolean;
  /** Why not: a Deny statement matched, or nothing allowed. */
  reason?: 'explicit-deny' | 'no-allow';
  /** The kind of policy that denied, or that lacked the Allow (for AWS's message). */
  policyType?: PolicyType;
  /** How the decision was reached, and every unknown key, operator or variable met. */
  diagnostics: string[];
}

/**
 * Condition keys the evaluator knows. A key outside this list denies (fail closed). A known key
 * that the request does not carry is missing, with AWS's rules for missing keys.
 * Lower case: IAM condition key names are case-insensitive.
 */
export const KNOWN_CONDITION_KEYS: readonly string[] = [
  'aws:principalarn', 'aws:principalaccount', 'aws:principalorgid', 'aws:principaltype', 'aws:resourceaccount',
  'aws:sourceaccount', 'aws:sourcearn', 'aws:viaawsservice', 'aws:calledvia', 'aws:securetransport',
  'aws:currenttime', 'aws:epochtime', 'aws:requestedregion', 'aws:principalisawsservice',
  'kms:calleraccount', 'kms:viaservice', 'kms:grantisforawsresource', 'kms:requestalias', 'kms:resourcealiases',
  'kms:encryptioncontextkeys', 'kms:keyspec', 'kms:keyusage', 'kms:keyorigin', 'kms:macalgorithm',
  'kms:signingalgorithm', 'kms:encryptionalgorithm', 'kms:keyagreementalgorithm', 'kms:grantoperations',
  'kms:granteeprincipal', 'kms:retiringprincipal', 'kms:wrappingalgorithm', 'kms:wrappingkeyspec',
  'kms:expirationmodel', 'kms:validto', 'kms:multiregion', 'kms:multiregionkeytype', 'kms:replicaregion',
  'kms:bypasspolicylockoutsafetycheck',
  'secretsmanager:secretid', 'secretsmanager:versionid', 'secretsmanager:versionstage', 'secretsmanager:name',
  'secretsmanager:kmskeyid', 'secretsmanager:blockpublicpolicy',
];
/** Key families with a free-form suffix. */
const KNOWN_KEY_PREFIXES = ['kms:encryptioncontext:', 'aws:principaltag/', 'aws:resourcetag/', 'aws:requesttag/', 'secretsmanager:resourcetag/'];

export function isKnownConditionKey(key: string): boolean {
  const k = key.toLowerCase();
  return KNOWN_CONDITION_KEYS.includes(k) || KNOWN_KEY_PREFIXES.some((p) => k.startsWith(p) && k.length > p.length);
}

/** Evaluates one request. See the module comment for what is and is not evaluated. */
export function evaluate(request: AuthorizationRequest): Decision {
  const diagnostics: string[] = [];
  const context = requestContext(request);
  const identity = (request.identityPolicies ?? request.principal.identityPolicies ?? []).flatMap(statementsOf);
  const resource = request.resourcePolicy ? statementsOf(request.resourcePolicy) : [];
  const isRoot = /:root$/.test(request.principal.arn);

  const identityMatches = identity.map((s, i) => matchStatement(s, i, request, context, false, diagnostics));
  const resourceMatches = resource.map((s, i) => matchStatement(s, i, request, context, true, diagnostics));
  const denied = (matches: Match[], statements: PolicyStatement[]) => matches.findIndex((m, i) => m !== 'no' && statements[i].Effect === 'Deny');
  const resourceDeny = denied(resourceMatches, resource);
  if (resourceDeny >= 0) {
    diagnostics.push(`denied by resource policy statement ${label(resource[resourceDeny], resourceDeny)}`);
    return { allowed: false, reason: 'explicit-deny', policyType: 'resource-based', diagnostics };
  }
  const identityDeny = denied(identityMatches, identity);
  if (identityDeny >= 0) {
    diagnostics.push(`denied by identity policy statement ${label(identity[identityDeny], identityDeny)}`);
    return { allowed: false, reason: 'explicit-deny', policyType: 'identity-based', diagnostics };
  }

  const allows = (matches: Match[], statements: PolicyStatement[], kind: Match) => matches.some((m, i) => m === kind && statements[i].Effect === 'Allow');
  // The account root has every identity permission: IAM policies cannot be attached to it.
  const identityAllows = isRoot || allows(identityMatches, identity, 'yes');
  const resourceAllowsCaller = allows(resourceMatches, resource, 'yes') || request.grantedBy !== undefined;
  const resourceDelegates = allows(resourceMatches, resource, 'account');
  if (request.grantedBy) diagnostics.push(`allowed by grant ${request.grantedBy}`);
  const sameAccount = request.principal.account === request.resourceAccount;

  let allowed: boolean;
  let missing: PolicyType;
  if (resourceAllowsCaller && (sameAccount || identityAllows || request.grantedBy)) {
    allowed = true;
  } else if (resourceDelegates && identityAllows) {
    allowed = true;
  } else if (sameAccount && request.mode === 'resource-or-identity' && identityAllows) {
    allowed = true;
  } else {
    allowed = false;
    // Which side to blame, as AWS's message does: the resource policy when it neither allows
    // nor delegates (or KMS without delegation), else the caller's identity policies.
    const resourceSideOk = resourceAllowsCaller || resourceDelegates || (sameAccount && request.mode === 'resource-or-identity');
    missing = resourceSideOk ? 'identity-based' : 'resource-based';
  }
  if (allowed) return { allowed, diagnostics };
  diagnostics.push(`no ${missing!} policy allows ${request.action} on ${request.resource}`);
  return { allowed: false, reason: 'no-allow', policyType: missing!, diagnostics };
}

/**
 * AWS's AccessDenied message: "User: P is not authorized to perform: A on resource: R because no
 * resource-based policy allows the A action" or "... with an explicit deny in a resource-based
 * policy" ("Troubleshoot access denied error messages", IAM User Guide,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 */
export function accessDeniedMessage(request: Pick<AuthorizationRequest, 'principal' | 'action' | 'resource'>, decision: Decision): string {
  const who = `User: ${request.principal.callerArn ?? request.principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  const type = decision.policyType ?? 'identity-based';
  return decision.reason === 'explicit-deny'
    ? `${who} with an explicit deny in ${type === 'identity-based' ? 'an' : 'a'} ${type} policy`
    : `${who} because no ${type} policy allows the ${request.action} action`;
}

/** `yes`: applies to the caller; `account`: a resource-policy statement that names the caller's account (delegation). */
type Match = 'no' | 'yes' | 'account';

function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
}

function label(s: PolicyStatement, i: number): string {
  return s.Sid ? `'${s.Sid}'` : `#${i + 1}`;
}

function list(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

function matchStatement(s: PolicyStatement, index: number, r: AuthorizationRequest, context: Map<string, ContextValue>, isResourcePolicy: boolean, diagnostics: string[]): Match {
  const actionHit = s.NotAction !== undefined
    ? !list(s.NotAction).some((a) => globMatch(a, r.action, true))
    : list(s.Action).some((a) => globMatch(a, r.action, true));
  if (!actionHit) return 'no';
  const resourceHit = s.NotResource !== undefined
    ? !list(s.NotResource).some((p) => arnMatch(p, r.resource))
    : list(s.Resource).some((p) => arnMatch(p, r.resource));
  if (!resourceHit) return 'no';
  let match: Match = 'yes';
  if (isResourcePolicy) {
    match = s.NotPrincipal !== undefined ? (principalMatch(s.NotPrincipal, r.principal) === 'no' ? 'yes' : 'no') : principalMatch(s.Principal, r.principal);
    if (match === 'no') return 'no';
  }
  const unsupported = unsupportedIn(s);
  if (unsupported.length) {
    diagnostics.push(`statement ${label(s, index)}: ${unsupported.join('; ')}; ${s.Effect === 'Deny' ? 'the Deny applies' : 'the Allow does not apply'} (fail closed)`);
    return s.Effect === 'Deny' ? match : 'no';
  }
  return conditionsHold(s.Condition ?? {}, context) ? match : 'no';
}

/** Policy variables and unknown condition keys or operators, each named. */
function unsupportedIn(s: PolicyStatement): string[] {
  const found: string[] = [];
  const text = JSON.stringify([s.Action, s.NotAction, s.Resource, s.NotResource, s.Principal, s.NotPrincipal, s.Condition]);
  for (const v of text.match(/\$\{[^}]*\}/g) ?? []) found.push(`policy variable ${v} is not supported`);
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    if (!parseOperator(operator)) found.push(`condition operator ${operator} is not supported`);
    for (const key of Object.keys(keys ?? {})) if (!isKnownConditionKey(key)) found.push(`condition key ${key} is not known to the evaluator`);
  }
  return [...new Set(found)];
}

/** The principals a resource-policy statement names: `*`, `{ AWS: ... }`; Service/Federated/CanonicalUser never match an IAM caller. */
function principalMatch(element: unknown, p: Principal): Match {
  if (element === '*') return 'yes';
  if (typeof element !== 'object' || element === null) return 'no';
  const aws = list((element as Record<string, unknown>).AWS);
  let best: Match = 'no';
  for (const entry of aws) {
    if (entry === '*') return 'yes';
    if (entry === p.account || new RegExp(`^arn:aws[a-z-]*:iam::${p.account}:root$`).test(entry)) {
      // The account root as caller is the account itself; any other caller is delegated.
      if (/:root$/.test(p.arn)) return 'yes';
      best = 'account';
    } else if (entry === p.arn || entry === p.callerArn) {
      return 'yes';
    }
  }
  return best;
}

interface Operator {
  base: string;
  ifExists: boolean;
  set?: 'any' | 'all';
}

const OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike', 'Bool', 'Null',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
]);

function parseOperator(name: string): Operator | undefined {
  const m = /^(?:(ForAnyValue|ForAllValues):)?(\w+?)(IfExists)?$/.exec(name);
  if (!m || !OPERATORS.has(m[2]) || (m[2] === 'Null' && (m[1] || m[3]))) return undefined;
  return { base: m[2], ifExists: !!m[3], set: m[1] === 'ForAnyValue' ? 'any' : m[1] === 'ForAllValues' ? 'all' : undefined };
}

function conditionsHold(condition: Record<string, Record<string, unknown>>, context: Map<string, ContextValue>): boolean {
  for (const [name, keys] of Object.entries(condition)) {
    const op = parseOperator(name)!;
    for (const [key, expected] of Object.entries(keys)) {
      if (!conditionHolds(op, context.get(key.toLowerCase()), list(expected))) return false;
    }
  }
  return true;
}

function conditionHolds(op: Operator, actual: ContextValue | undefined, expected: string[]): boolean {
  if (op.base === 'Null') {
    const absent = actual === undefined || (Array.isArray(actual) && actual.length === 0);
    return expected.some((e) => (e.toLowerCase() === 'true') === absent);
  }
  const negated = /Not/.test(op.base);
  const values = actual === undefined ? [] : Array.isArray(actual) ? actual : [String(actual)];
  if (values.length === 0) {
    // "If the key is not present ... the condition is false; negated operators ... true;
    // ...IfExists true; ForAllValues true (vacuously)" (IAM User Guide, "Condition operators").
    if (op.ifExists || op.set === 'all') return true;
    return op.set === 'any' ? false : negated;
  }
  const one = (v: string) => {
    const hit = expected.some((e) => valueMatches(op.base, e, v));
    return negated ? !hit : hit;
  };
  return op.set === 'all' ? values.every(one) : values.some(one);
}

function valueMatches(base: string, expected: string, actual: string): boolean {
  const positive = base.replace('Not', '');
  switch (positive) {
    case 'StringEquals': return expected === actual;
    case 'StringEqualsIgnoreCase': return expected.toLowerCase() === actual.toLowerCase();
    case 'StringLike': return globMatch(expected, actual, false);
    case 'ArnEquals': case 'ArnLike': return arnMatch(expected, actual);
    case 'Bool': return expected.toLowerCase() === actual.toLowerCase();
    default: break;
  }
  const numeric = positive.startsWith('Numeric');
  const a = numeric ? Number(actual) : Date.parse(/^\d+$/.test(actual) ? new Date(Number(actual) * 1000).toISOString() : actual);
  const e = numeric ? Number(expected) : Date.parse(/^\d+$/.test(expected) ? new Date(Number(expected) * 1000).toISOString() : expected);
  if (Number.isNaN(a) || Number.isNaN(e)) return false;
  const cmp = positive.replace(/^(Numeric|Date)/, '');
  return cmp === 'Equals' ? a === e : cmp === 'LessThan' ? a < e : cmp === 'LessThanEquals' ? a <= e : cmp === 'GreaterThan' ? a > e : a >= e;
}

/** `*` any run, `?` one character. */
export function globMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = '^' + pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$';
  return new RegExp(re, ignoreCase ? 'si' : 's').test(value);
}

/** ArnLike: `*` alone matches anything; otherwise each of the six `:`-separated parts is matched on its own. */
export function arnMatch(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const a = splitArn(arn);
  if (!p || !a) return globMatch(pattern, arn, false);
  return p.every((part, i) => globMatch(part, a[i], false));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** The request's keys by lower-case name, with the `aws:` keys AWS derives from the caller. */
function requestContext(r: AuthorizationRequest): Map<string, ContextValue> {
  const keys: ContextKeys = {
    'aws:PrincipalArn': r.principal.arn,
    'aws:PrincipalAccount': r.principal.account,
    'aws:PrincipalType': /:root$/.test(r.principal.arn) ? 'Account' : /:user\//.test(r.principal.arn) ? 'User' : 'AssumedRole',
    'aws:ResourceAccount': r.resourceAccount,
    'aws:SecureTransport': true,
    ...(r.principal.orgId ? { 'aws:PrincipalOrgID': r.principal.orgId } : {}),
    ...r.context,
  };
  return new Map(Object.entries(keys).map(([k, v]) => [k.toLowerCase(), v]));
}
