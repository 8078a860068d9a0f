import * as fs from 'fs';
import { Construct } from 'constructs';
import { MaterialEncodings } from '../lib/private/contract';

/**
 * What the example app provisions: one key per account and region (or one multi-Region key per
 * account, with replicas), all with the same material, shared with the same partners. Read from
 * the `byok` context key (cdk.json) or from the JSON file named by `-c byokConfig=path`.
 */
export interface ByokConfig {
  /** The partners' 12-digit AWS account ids. */
  readonly partnerAccountIds: string[];
  /** Alias of every key, e.g. alias/partner-workspace. */
  readonly alias: string;
  /** Full ARN of the material secret, read from every region/account (cross-region, cross-account by resource policy). */
  readonly secretArn?: string;
  /**
   * ARN of the customer managed KMS key that encrypts the secret. Required when a target account
   * is not the secret's: AWS cannot share the default aws/secretsmanager key across accounts
   * (docs/cross-account-secrets.md).
   */
  readonly secretKeyArn?: string;
  /** Or: the name of a secret present in every target region (e.g. a replicated secret). */
  readonly secretName?: string;
  /** Target accounts. Default: the CLI's account. */
  readonly accounts?: string[];
  /** Target regions; with multiRegion the first is the primary. Default: the CLI's region. */
  readonly regions?: string[];
  /** One multi-Region key per account (primary in regions[0], replicas elsewhere) instead of independent keys. */
  readonly multiRegion?: boolean;
  /** Days until the imported material expires. Default: never. */
  readonly expirationDays?: number;
  /**
   * How the secret encodes the material: BINARY, BASE64, HEX or PEM. Default: decided by the
   * secret (a SecretBinary is raw bytes, a SecretString base64).
   */
  readonly encoding?: string;
}

/** The single-key context keys of earlier versions still work: partnerAccountId, secretArn/secretName, alias, account, region. */
export function loadConfig(scope: Construct): ByokConfig {
  const ctx = (name: string) => scope.node.tryGetContext(name) || undefined;
  const file = ctx('byokConfig');
  const fromContext = ctx('byok');
  const raw: Partial<ByokConfig> = file
    ? JSON.parse(fs.readFileSync(file, 'utf8'))
    : typeof fromContext === 'string' ? JSON.parse(fromContext) : fromContext ?? {};
  const account = ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = ctx('region') ?? process.env.CDK_DEFAULT_REGION;
  // No default partner: a bare `cdk deploy` must not give some account use of the key.
  const partnerAccountIds = raw.partnerAccountIds ?? (ctx('partnerAccountId') ? [String(ctx('partnerAccountId'))] : []);
  if (partnerAccountIds.length === 0) {
    throw new Error(`the example app needs the partner's AWS account id: set the context key partnerAccountId (cdk deploy -c partnerAccountId=123456789012) or the field partnerAccountIds of the byok config${file ? ` (${file})` : ''}`);
  }
  const encoding = raw.encoding ?? ctx('encoding');
  if (encoding !== undefined && !(Object.values(MaterialEncodings) as string[]).includes(encoding)) {
    throw new Error(`the example app's encoding '${encoding}' (context key encoding or config field encoding) is not one of ${Object.values(MaterialEncodings).join(', ')}`);
  }
  return {
    partnerAccountIds,
    encoding,
    alias: raw.alias ?? ctx('alias') ?? 'alias/partner-byok',
    secretArn: raw.secretArn ?? ctx('secretArn'),
    secretKeyArn: raw.secretKeyArn ?? ctx('secretKeyArn'),
    secretName: raw.secretName ?? ctx('secretName'),
    accounts: raw.accounts ?? (account ? [account] : undefined),
    regions: raw.regions ?? (region ? [region] : undefined),
    multiRegion: raw.multiRegion ?? false,
    expirationDays: raw.expirationDays,
  };
}
