import * as iam from 'aws-cdk-lib/aws-iam';
import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ErrorCodes } from './private/contract';
import { ByokError } from './private/errors';
import { PARTNER_GRANT_ACTIONS, PARTNER_USE_ACTIONS, partnerKeyType } from './private/perms';

/** Options for {@link PartnerAccess.account}. */
export interface PartnerAccessOptions {
  /**
   * Narrow access to these IAM principals of the partner account (role or user ARNs) instead of
   * the whole account.
   *
   * @default - the partner account root: the partner's own IAM policies decide who in it may use the key
   */
  readonly principalArns?: string[];

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
 * Another AWS account (typically the SaaS vendor's) that may use the key, with exactly the
 * statements the KMS console's "Other AWS accounts" section adds for the key's type: symmetric
 * encryption (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, and grants for AWS
 * resources), asymmetric encryption (Encrypt, Decrypt, ReEncrypt*, DescribeKey, GetPublicKey),
 * signing (Sign, Verify, DescribeKey, GetPublicKey), HMAC (GenerateMac, VerifyMac, DescribeKey) or
 * key agreement (DeriveSharedSecret, DescribeKey, GetPublicKey).
 */
export class PartnerAccess {
  /**
   * Give another AWS account use of the key.
   *
   * @param accountId the 12-digit AWS account id of the partner
   */
  public static account(accountId: string, options: PartnerAccessOptions = {}): PartnerAccess {
    return new PartnerAccess(accountId, options);
  }

  /** The partner's AWS account id. */
  public readonly accountId: string;
  private readonly options: PartnerAccessOptions;

  private constructor(accountId: string, options: PartnerAccessOptions) {
    this.accountId = accountId;
    this.options = options;
  }

  /**
   * The key policy statements for this partner, for a key of the given spec and usage.
   * @internal
   */
  public _statements(scope: IConstruct, keySpec: string, keyUsage: string): iam.PolicyStatement[] {
    validateAccountId(this.accountId, scope);
    const ownAccount = Stack.of(scope).account;
    if (!Token.isUnresolved(ownAccount) && ownAccount === this.accountId) {
      throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner account ${this.accountId} is the key's own account: a partner is another account. Principals of this account get the key through IAM already (the key policy trusts the account), so grant them use with key.grantEncryptDecrypt(role) and the like instead`, scope);
    }
    for (const arn of this.options.principalArns ?? []) {
      if (!Token.isUnresolved(arn) && !new RegExp(`^arn:aws[a-z-]*:iam::${this.accountId}:(root|role/.+|user/.+)$`).test(arn)) {
        throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner principal '${arn}' is not a role, user or root ARN of partner account ${this.accountId}`, scope);
      }
    }
    const principals = this.options.principalArns?.length
      ? this.options.principalArns.map((arn) => new iam.ArnPrincipal(arn))
      : [new iam.AccountPrincipal(this.accountId)];
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
        sid: `AllowUseOfTheKeyByPartner${this.accountId}`,
        principals,
        actions: [...PARTNER_USE_ACTIONS[keyType]],
        resources: ['*'],
        conditions: viaService,
      }),
    ];
    if (this.options.allowGrantsForAwsResources ?? symmetric) {
      statements.push(new iam.PolicyStatement({
        sid: `AllowAttachmentOfPersistentResourcesByPartner${this.accountId}`,
        principals,
        actions: PARTNER_GRANT_ACTIONS,
        resources: ['*'],
        conditions: { ...viaService, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }));
    }
    return statements;
  }
}

/** An AWS account id is exactly 12 digits; a token is checked by CloudFormation instead. */
function validateAccountId(accountId: string, scope: IConstruct): void {
  if (Token.isUnresolved(accountId)) return;
  if (!/^\d{12}$/.test(accountId)) {
    throw new ByokError(ErrorCodes.ACCOUNT_ID, `partner account id '${accountId}' is not valid: an AWS account id is exactly 12 digits`, scope);
  }
}
