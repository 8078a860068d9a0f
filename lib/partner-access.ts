import { createHash } from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { ErrorCodes } from './private/contract';
import { ByokError } from './private/errors';
import { PARTNER_GRANT_ACTIONS, PARTNER_USE_ACTIONS, partnerKeyType } from './private/perms';

/** Options for {@link PartnerAccess.account} and {@link PartnerAccess.principal}. */
export interface PartnerAccessOptions {
  /**
   * Allow use only through these AWS services (the `kms:ViaService` condition), for example
   * `s3.us-east-1.amazonaws.com`.
   *
   * @default - no service restriction
   */
  readonly viaServices?: string[];

  /**
   * Also allow the partner to create grants for AWS resources (the console's
   * "attachment of persistent resources" statement, with `kms:GrantIsForAWSResource`), which
   * services such as EBS, RDS or DynamoDB need. Symmetric encryption keys only: the console writes
   * no grant statement for HMAC or asymmetric keys, and setting this to true for one is an error.
   *
   * @default - true for a symmetric encryption key, false for any other key
   */
  readonly allowGrantsForAwsResources?: boolean;
}

/**
 * Another AWS account (typically the SaaS vendor's), or principals of it, that may use the key, with exactly the
 * statements the KMS console's "Other AWS accounts" section adds for the key's type: symmetric
 * encryption (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, and grants for AWS
 * resources), asymmetric encryption (Encrypt, Decrypt, ReEncrypt*, DescribeKey, GetPublicKey),
 * signing (Sign, Verify, DescribeKey, GetPublicKey), HMAC (GenerateMac, VerifyMac, DescribeKey) or
 * key agreement (DeriveSharedSecret, DescribeKey, GetPublicKey).
 */
export class PartnerAccess {
  /**
   * Give another AWS account use of the key: its account root, so that the partner's own IAM
   * policies decide who in it may use the key.
   *
   * @param accountId the 12-digit AWS account id of the partner
   */
  public static account(accountId: string, options: PartnerAccessOptions = {}): PartnerAccess {
    return new PartnerAccess(accountId, undefined, options);
  }

  /**
   * Give principals of another AWS account use of the key, instead of the whole account: a role
   * or user (`iam.Role.fromRoleArn(...)`, `new iam.ArnPrincipal(arn)`), an account
   * (`new iam.AccountPrincipal(id)`), or several of them (`new iam.CompositePrincipal(...)`). A key
   * policy names AWS principals only: service, federated and wildcard principals, and principals
   * with conditions, are refused.
   */
  public static principal(principal: iam.IPrincipal, options: PartnerAccessOptions = {}): PartnerAccess {
    return new PartnerAccess(undefined, principal, options);
  }

  /**
   * The partner's AWS account id.
   *
   * @default - the account of `principal`, if it is known at synth time
   */
  public readonly accountId?: string;
  private readonly principal?: iam.IPrincipal;
  private readonly options: PartnerAccessOptions;

  private constructor(accountId: string | undefined, principal: iam.IPrincipal | undefined, options: PartnerAccessOptions) {
    this.accountId = accountId ?? (principal && accountOf(principal));
    this.principal = principal;
    this.options = options;
  }

  /**
   * The key policy statements for this partner, for a key of the given spec and usage.
   * @internal
   */
  public _statements(scope: IConstruct, keySpec: string, keyUsage: string): iam.PolicyStatement[] {
    const { principals, sidSuffix } = this.principal
      ? { principals: [checkPrincipal(this.principal, scope)], sidSuffix: `Principal${principalHash(this.principal, scope)}` }
      : { principals: [new iam.AccountPrincipal(checkAccount(this.accountId!, scope))], sidSuffix: this.accountId };
    const viaService = this.options.viaServices?.length
      ? { StringEquals: { 'kms:ViaService': this.options.viaServices } }
      : undefined;
    const keyType = partnerKeyType(keySpec, keyUsage);
    const symmetric = keyType === 'SYMMETRIC_ENCRYPTION';
    if (this.options.allowGrantsForAwsResources && !symmetric) {
      throw new ByokError(ErrorCodes.PARTNER_GRANTS, `allowGrantsForAwsResources is for symmetric encryption keys only, not a ${keySpec} key with usage ${keyUsage}: AWS services create grants on symmetric encryption keys, and the KMS console writes no grant statement for other keys`, scope);
    }
    const statements = [
      new iam.PolicyStatement({
        sid: `AllowUseOfTheKeyByPartner${sidSuffix}`,
        principals,
        actions: [...PARTNER_USE_ACTIONS[keyType]],
        resources: ['*'],
        conditions: viaService,
      }),
    ];
    if (this.options.allowGrantsForAwsResources ?? symmetric) {
      statements.push(new iam.PolicyStatement({
        sid: `AllowAttachmentOfPersistentResourcesByPartner${sidSuffix}`,
        principals,
        actions: PARTNER_GRANT_ACTIONS,
        resources: ['*'],
        conditions: { ...viaService, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }));
    }
    return statements;
  }
}

/** A partner account: exactly 12 digits (a token is checked by CloudFormation instead), not the key's own. */
function checkAccount(accountId: string, scope: IConstruct): string {
  if (Token.isUnresolved(accountId)) return accountId;
  if (!/^\d{12}$/.test(accountId)) {
    throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner account id '${accountId}' is not valid: an AWS account id is exactly 12 digits`, scope);
  }
  const ownAccount = Stack.of(scope).account;
  if (!Token.isUnresolved(ownAccount) && ownAccount === accountId) {
    throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner account ${accountId} is the key's own account: a partner is another account. Principals of this account get the key through IAM already (the key policy trusts the account), so grant them use with key.grantEncryptDecrypt(role) and the like instead`, scope);
  }
  return accountId;
}

/**
 * A partner principal is one a key policy can name: AWS principals (account ids, account root,
 * role or user ARNs) of other accounts, without conditions.
 * docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html ("Principal")
 */
function checkPrincipal(principal: iam.IPrincipal, scope: IConstruct): iam.IPrincipal {
  const fragment = principal.policyFragment;
  const kinds = Object.keys(fragment.principalJson);
  const conditional = Object.keys(fragment.conditions).length > 0;
  if (!conditional && Object.values(fragment.principalJson).some((values) => values.includes('*'))) {
    throw new ByokError(ErrorCodes.ACCOUNT_ID, 'partner principal \'*\' would let anyone use the key: name the partner\'s account, role or user', scope);
  }
  if (kinds.length !== 1 || kinds[0] !== 'AWS' || conditional) {
    throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner principal ${principal} is not an AWS account, role or user without conditions (it names ${kinds.join(', ') || 'nothing'}${conditional ? ', with conditions' : ''}): a partner is a principal of another AWS account`, scope);
  }
  for (const value of fragment.principalJson.AWS) {
    if (Token.isUnresolved(value)) continue;
    const account = accountOfArn(value);
    if (!account) {
      throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner principal '${value}' is not an account id, or a role, user or root ARN`, scope);
    }
    checkAccount(account, scope);
  }
  const account = principal.principalAccount;
  if (account !== undefined && !Token.isUnresolved(account)) checkAccount(account, scope);
  return principal;
}

/** The account of an account id, or of a role, user or root ARN. */
function accountOfArn(value: string): string | undefined {
  return /^\d{12}$/.test(value) ? value : /^arn:aws[a-z-]*:iam::(\d{12}):(root|role\/.+|user\/.+)$/.exec(value)?.[1];
}

/** The one account of a principal's AWS ARNs, when they are known at synth time. */
function accountOf(principal: iam.IPrincipal): string | undefined {
  if (principal.principalAccount !== undefined && !Token.isUnresolved(principal.principalAccount)) return principal.principalAccount;
  const accounts = new Set((principal.policyFragment.principalJson.AWS ?? []).map((value) => Token.isUnresolved(value) ? undefined : accountOfArn(value)));
  const [account] = accounts;
  return accounts.size === 1 ? account : undefined;
}

/** A short, stable name for the principal in statement ids (which allow letters and digits only). */
function principalHash(principal: iam.IPrincipal, scope: IConstruct): string {
  const resolved = JSON.stringify(Stack.of(scope).resolve(principal.policyFragment.principalJson));
  return createHash('sha256').update(resolved).digest('hex').slice(0, 8).toUpperCase();
}
