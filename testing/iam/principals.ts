/**
 * Who is calling: the local cloud's principals by access key id, each with its identity policies.
 * The KMS emulator and the kit's Secrets Manager read the access key id from the SigV4
 * `Authorization` header and look the caller up here. Signatures are NOT checked: any process that
 * knows an access key id acts as its principal (the servers listen on 127.0.0.1 only).
 */
import * as crypto from 'crypto';
import type { PolicyDocument, Principal } from './evaluate';

export interface PrincipalOptions {
  /** Identity policies (inline and managed documents) attached to the principal. @default [] */
  identityPolicies?: PolicyDocument[];
  /** The principal's AWS Organizations id (`aws:PrincipalOrgID`). @default - none */
  orgId?: string;
  /** Use this access key id instead of a generated one. @default - a new `AKIA...` id */
  accessKeyId?: string;
  /** Session name shown for a role (`assumed-role/R/<session>`). @default 'local-session' */
  sessionName?: string;
}

/** A registered principal and the credentials that make a request its own. */
export interface RegisteredPrincipal extends Principal {
  accessKeyId: string;
  /** Any value works: signatures are not checked. */
  secretAccessKey: string;
  identityPolicies: PolicyDocument[];
}

/** An AWS SDK `credentials` object. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const PRINCIPAL_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):(root|role\/(?:[^/]+\/)*([^/]+)|user\/(?:[^/]+\/)*[^/]+)$/;

/** Parses a role, user or account-root ARN. */
export function parsePrincipalArn(arn: string): { partition: string; account: string; roleName?: string } | undefined {
  const m = PRINCIPAL_ARN.exec(arn);
  return m ? { partition: m[1], account: m[2], roleName: m[4] } : undefined;
}

export class PrincipalRegistry {
  private readonly byKey = new Map<string, RegisteredPrincipal>();
  private readonly byArn = new Map<string, RegisteredPrincipal>();
  private readonly organizations: Array<(account: string) => string | undefined> = [];

  /**
   * Adds an organization: a principal registered without an `orgId` gets the id of the
   * organization its account is in at the time of the request (`aws:PrincipalOrgID`).
   */
  addOrganization(orgIdOf: (account: string) => string | undefined): void {
    this.organizations.push(orgIdOf);
  }

  private withOrg(p: RegisteredPrincipal | undefined): RegisteredPrincipal | undefined {
    if (!p || p.orgId) return p;
    const orgId = this.organizations.map((of) => of(p.account)).find((id) => id !== undefined);
    return orgId ? { ...p, orgId } : p;
  }

  /**
   * Registers (or updates) a principal: `arn:aws:iam::A:role/R`, `...:user/U` or `...:root`.
   * Updating keeps the access key id unless a new one is given.
   */
  register(arn: string, opts: PrincipalOptions = {}): RegisteredPrincipal {
    const parsed = parsePrincipalArn(arn);
    if (!parsed) throw new Error(`'${arn}' is not an IAM role, user or account root ARN (arn:aws:iam::123456789012:role/Name)`);
    const existing = this.byArn.get(arn);
    if (existing && opts.accessKeyId && opts.accessKeyId !== existing.accessKeyId) this.byKey.delete(existing.accessKeyId);
    const accessKeyId = opts.accessKeyId ?? existing?.accessKeyId ?? newAccessKeyId();
    const other = this.byKey.get(accessKeyId);
    if (other && other.arn !== arn) throw new Error(`access key id ${accessKeyId} already belongs to ${other.arn}`);
    const principal: RegisteredPrincipal = {
      arn,
      callerArn: parsed.roleName
        ? `arn:${parsed.partition}:sts::${parsed.account}:assumed-role/${parsed.roleName}/${opts.sessionName ?? 'local-session'}`
        : arn,
      account: parsed.account,
      orgId: opts.orgId ?? existing?.orgId,
      identityPolicies: opts.identityPolicies ?? existing?.identityPolicies ?? [],
      accessKeyId,
      secretAccessKey: existing?.secretAccessKey ?? 'local-secret-not-checked',
    };
    this.byArn.set(arn, principal);
    this.byKey.set(accessKeyId, principal);
    return principal;
  }

  /** Credentials of a principal, registering it (with no identity policies) if it is new. */
  credentialsFor(arn: string, opts?: PrincipalOptions): Credentials {
    const p = opts || !this.byArn.has(arn) ? this.register(arn, opts) : this.byArn.get(arn)!;
    return { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey };
  }

  get(arn: string): RegisteredPrincipal | undefined {
    return this.withOrg(this.byArn.get(arn));
  }

  byAccessKeyId(accessKeyId: string): RegisteredPrincipal | undefined {
    return this.withOrg(this.byKey.get(accessKeyId));
  }
}

/** `AKIA` and 16 characters of A-Z2-7, the shape of an AWS access key id. */
function newAccessKeyId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'AKIA' + Array.from(crypto.randomBytes(16), (b) => alphabet[b % 32]).join('');
}

/**
 * Who sent a request and for which Region: the principal of the SigV4 access key id if registered,
 * else the root of the account `accounts` maps the key id to (else `defaultAccount`).
 */
export function identifyCaller(
  registry: PrincipalRegistry,
  authorization: string | undefined,
  defaults: { accounts?: Record<string, string>; defaultAccount: string; defaultRegion: string },
): { region: string; principal: Principal } {
  const credential = parseSigV4Authorization(authorization);
  const region = credential?.region ?? defaults.defaultRegion;
  const known = credential ? registry.byAccessKeyId(credential.accessKeyId) : undefined;
  if (known) return { region, principal: known };
  const account = (credential && defaults.accounts?.[credential.accessKeyId]) ?? defaults.defaultAccount;
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return { region, principal: { arn: `arn:${partition}:iam::${account}:root`, account } };
}

/**
 * The access key id and Region of a SigV4 `Authorization` header:
 * `AWS4-HMAC-SHA256 Credential=AKID/20261123/eu-west-1/kms/aws4_request, SignedHeaders=..., Signature=...`.
 * The signature is not verified.
 */
export function parseSigV4Authorization(authorization: string | undefined): { accessKeyId: string; region: string; service: string } | undefined {
  const m = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : undefined;
}
