/**
 * Authorization of every emulator request: the caller (a principal from the access key id), the
 * key policy, the caller's identity policies (counted only where the key policy delegates to the
 * account) and the key's grants, evaluated by testing/iam ("Authentication and access control for
 * AWS KMS", https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html).
 * Denials are AccessDeniedException with AWS's message.
 */
import { keyArn, partitionOf, viaServiceName } from './arn';
import { KmsError } from './errors';
import type { EmulatorState, KmsKey } from './state';
import { ContextKeys, Decision, PolicyDocument, Principal, accessDeniedMessage, evaluate } from '../iam/evaluate';
import type { PrincipalRegistry } from '../iam/principals';

/** Who is calling, and through which AWS service (`kms:ViaService`), if any. */
export interface Caller {
  principal: Principal;
  viaService?: string;
}

/** A grant ("Grants in AWS KMS", KMS Developer Guide). */
export interface GrantRecord {
  grantId: string;
  /** SHA-256 of the grant token is not needed: grants take effect at once here (no eventual consistency). */
  token: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: { EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string> };
  issuingAccount: string;
  creationDate: Date;
}

/** Operations authorized by IAM policies alone: they name no key (resource `*`). */
export const IDENTITY_ONLY_OPERATIONS = new Set(['CreateKey', 'ListKeys', 'GenerateRandom', 'ListRetirableGrants']);
const GRANT_OPERATIONS = new Set(['CreateGrant', 'ListGrants', 'RevokeGrant']);

/** Request parameters KMS exposes as condition keys ("AWS KMS condition keys", KMS Developer Guide). */
const PARAMETER_KEYS: Record<string, string> = {
  EncryptionAlgorithm: 'kms:EncryptionAlgorithm',
  SigningAlgorithm: 'kms:SigningAlgorithm',
  MacAlgorithm: 'kms:MacAlgorithm',
  KeyAgreementAlgorithm: 'kms:KeyAgreementAlgorithm',
  WrappingAlgorithm: 'kms:WrappingAlgorithm',
  WrappingKeySpec: 'kms:WrappingKeySpec',
  ExpirationModel: 'kms:ExpirationModel',
  GranteePrincipal: 'kms:GranteePrincipal',
  RetiringPrincipal: 'kms:RetiringPrincipal',
  Operations: 'kms:GrantOperations',
  BypassPolicyLockoutSafetyCheck: 'kms:BypassPolicyLockoutSafetyCheck',
  ReplicaRegion: 'kms:ReplicaRegion',
};

export class AuthorizationDenied extends KmsError {
  constructor(message: string, readonly decision: Decision) {
    super('AccessDeniedException', message);
  }
}

/** What one request may do; built by the server per request. */
export class RequestAuthorization {
  constructor(
    readonly caller: Caller,
    private readonly operation: string,
    private readonly params: Record<string, unknown>,
    private readonly state: EmulatorState,
    private readonly principals: PrincipalRegistry,
  ) {}

  /** Authorizes the request's action (or `action`) on `key`; throws AccessDeniedException. */
  key(key: KmsKey, opts: { action?: string; alias?: string } = {}): void {
    const action = opts.action ?? `kms:${this.operation}`;
    const context = this.context(key, opts.alias);
    const request = {
      principal: this.caller.principal,
      action,
      resource: key.arn,
      resourceAccount: key.account,
      context,
      resourcePolicy: JSON.parse(key.policy) as PolicyDocument,
      mode: 'kms' as const,
      grantedBy: this.grantFor(key, action),
    };
    const decision = evaluate(request);
    if (!decision.allowed) throw new AuthorizationDenied(accessDeniedMessage(request, decision), decision);
  }

  /** Operations on no key (CreateKey, ListKeys, ...) and on alias resources: IAM policies decide. */
  identityOnly(resource: string): void {
    const principal = this.caller.principal;
    const request = {
      principal,
      action: `kms:${this.operation}`,
      resource,
      resourceAccount: principal.account,
      context: { 'kms:CallerAccount': principal.account, ...this.parameterKeys() },
      mode: 'resource-or-identity' as const,
    };
    const decision = evaluate(request);
    if (!decision.allowed) throw new AuthorizationDenied(accessDeniedMessage(request, decision), decision);
  }

  /**
   * What KMS checks when a key policy is set (CreateKey, PutKeyPolicy, ReplicateKey): every IAM
   * principal it names must exist, and unless BypassPolicyLockoutSafetyCheck is set the caller must
   * be allowed kms:PutKeyPolicy by the new policy ("Key policies in AWS KMS", "Default key policy":
   * the lockout safety check; CreateKey API reference: MalformedPolicyDocumentException).
   */
  checkKeyPolicy(policy: string, target: { account: string; region: string; keyId?: string }, bypass: boolean): void {
    let doc: PolicyDocument;
    try {
      doc = JSON.parse(policy);
    } catch {
      throw malformed('The key policy is not a valid JSON document.');
    }
    const statements = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : undefined;
    if (!statements || statements.some((s) => typeof s !== 'object' || s === null || (s.Effect !== 'Allow' && s.Effect !== 'Deny'))) {
      throw malformed('The key policy must have a Statement list whose statements have an Effect of Allow or Deny.');
    }
    for (const s of statements) {
      for (const p of awsPrincipals(s.Principal ?? s.NotPrincipal)) {
        if (!this.principalExists(p)) throw malformed('Policy contains a statement with one or more invalid principals.');
      }
    }
    if (bypass) return;
    const principal = this.caller.principal;
    const decision = evaluate({
      principal,
      action: 'kms:PutKeyPolicy',
      resource: keyArn(target.account, target.region, target.keyId ?? '00000000-0000-0000-0000-000000000000'),
      resourceAccount: target.account,
      context: { 'kms:CallerAccount': principal.account },
      resourcePolicy: doc,
      mode: 'kms',
    });
    if (!decision.allowed) throw malformed('The new key policy will not allow you to update the key policy in the future.');
  }

  /** `*`, 12-digit accounts and account roots are always valid; a role or user must exist (be registered). */
  private principalExists(p: string): boolean {
    if (p === '*' || /^\d{12}$/.test(p) || /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(p)) return true;
    return this.principals.get(p) !== undefined;
  }

  private context(key: KmsKey, alias?: string): ContextKeys {
    const principal = this.caller.principal;
    const aliases = [...this.state.store(key.account, key.region).aliases.values()].filter((a) => a.targetKeyId === key.keyId).map((a) => a.aliasName);
    const context: ContextKeys = {
      'kms:CallerAccount': principal.account,
      'kms:KeySpec': key.keySpec,
      'kms:KeyUsage': key.keyUsage,
      'kms:KeyOrigin': key.origin,
      'kms:MultiRegion': key.multiRegion !== undefined,
      ...(key.multiRegion ? { 'kms:MultiRegionKeyType': key.multiRegion.type } : {}),
      'kms:ResourceAliases': aliases,
      ...this.parameterKeys(),
    };
    if (this.caller.viaService) context['kms:ViaService'] = this.caller.viaService;
    // "kms:GrantIsForAWSResource": true only when an AWS service integrated with KMS calls for the principal.
    if (GRANT_OPERATIONS.has(this.operation)) context['kms:GrantIsForAWSResource'] = this.caller.viaService !== undefined;
    if (alias) context['kms:RequestAlias'] = alias;
    return context;
  }

  private parameterKeys(): ContextKeys {
    const keys: ContextKeys = {};
    for (const [param, key] of Object.entries(PARAMETER_KEYS)) {
      const v = this.params[param];
      if (typeof v === 'string' || typeof v === 'boolean') keys[key] = v;
      else if (Array.isArray(v)) keys[key] = v.map(String);
    }
    if (typeof this.params.ValidTo === 'number') keys['kms:ValidTo'] = String(Math.floor(this.params.ValidTo));
    const contexts = ['EncryptionContext', 'SourceEncryptionContext', 'DestinationEncryptionContext']
      .map((m) => this.params[m])
      .filter((c): c is Record<string, string> => typeof c === 'object' && c !== null && !Array.isArray(c));
    const ecKeys = new Set<string>();
    for (const c of contexts) {
      for (const [k, v] of Object.entries(c)) {
        keys[`kms:EncryptionContext:${k}`] = String(v);
        ecKeys.add(k);
      }
    }
    if (ecKeys.size) keys['kms:EncryptionContextKeys'] = [...ecKeys];
    return keys;
  }

  /** The grant on `key` that lets the caller perform `action`, with its constraints met. */
  private grantFor(key: KmsKey, action: string): string | undefined {
    const operation = action.replace(/^kms:/, '');
    const p = this.caller.principal;
    const context = (this.params.EncryptionContext ?? this.params.SourceEncryptionContext ?? this.params.DestinationEncryptionContext ?? {}) as Record<string, string>;
    const grant = (key.grants ?? []).find((g) =>
      (g.granteePrincipal === p.arn || g.granteePrincipal === p.callerArn)
      && g.operations.includes(operation)
      && constraintsMet(g, context));
    return grant?.grantId;
  }
}

function constraintsMet(g: GrantRecord, context: Record<string, string>): boolean {
  const equals = g.constraints?.EncryptionContextEquals;
  const subset = g.constraints?.EncryptionContextSubset;
  if (equals && JSON.stringify(Object.entries(equals).sort()) !== JSON.stringify(Object.entries(context).sort())) return false;
  if (subset && Object.entries(subset).some(([k, v]) => context[k] !== v)) return false;
  return true;
}

function malformed(message: string): KmsError {
  return new KmsError('MalformedPolicyDocumentException', message);
}

function awsPrincipals(element: unknown): string[] {
  if (element === undefined || element === '*') return [];
  const aws = typeof element === 'object' && element !== null ? (element as Record<string, unknown>).AWS : undefined;
  return aws === undefined ? [] : Array.isArray(aws) ? aws.map(String) : [String(aws)];
}

/**
 * The key policy AWS gives the AWS managed key of Secrets Manager (`alias/aws/secretsmanager`):
 * use only through Secrets Manager in the key's Region by principals of the key's account, and
 * read-only metadata access for the account. This is the policy GetKeyPolicy shows on such keys;
 * it is why the key "cannot be used across accounts" ("Access AWS Secrets Manager secrets from a
 * different account", Secrets Manager User Guide).
 */
export function secretsManagerManagedKeyPolicy(account: string, region: string): string {
  const viaService = { 'kms:CallerAccount': account, 'kms:ViaService': viaServiceName('secretsmanager', region) };
  const sid = 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager';
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'auto-secretsmanager-2',
    Statement: [
      { Sid: sid, Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: viaService } },
      { Sid: sid, Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:GenerateDataKey*', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': account }, StringLike: { 'kms:ViaService': viaService['kms:ViaService'] } } },
      { Sid: 'Allow direct access to key metadata to the account', Effect: 'Allow', Principal: { AWS: `arn:${partitionOf(region)}:iam::${account}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'], Resource: '*' },
    ],
  });
}

