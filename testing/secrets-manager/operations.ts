/**
 * The Secrets Manager operations the project, its kit and its users' tests call, with AWS's
 * validation, staging-label rules and error names ("AWS Secrets Manager API Reference"; staging
 * labels: "Secrets Manager secret versions" in the user guide).
 */
import { randomBytes, randomUUID } from 'crypto';
import { partitionOf } from '../emulator/arn';
import {
  invalidParameter, invalidRequest, malformedPolicy, notFound, publicPolicy, resourceExists, secretNotFound, validation,
} from './errors';
import { Caller, Keyring, KeyUse } from './keyring';
import { SecretRecord, SecretsState, SecretVersion } from './state';

/** A request about to be served: what the authorizer sees. */
export interface AuthorizationRequest {
  readonly caller: Caller;
  /** `secretsmanager:<Operation>`. */
  readonly action: string;
  /** The secret's ARN (for CreateSecret: the ARN it will have). */
  readonly resource: string;
  /** The secret, when it exists: its resource policy and account. */
  readonly secret?: SecretRecord;
  /** Request condition keys: `secretsmanager:SecretId`, `secretsmanager:VersionId`, `secretsmanager:VersionStage`, `secretsmanager:Name`, `secretsmanager:KmsKeyId`. */
  readonly context: Record<string, string>;
}

/** Decides whether a caller may make a request; throws an AccessDeniedException SecretsManagerError if not. */
export interface Authorizer {
  authorize(request: AuthorizationRequest): Promise<void> | void;
}

export interface OperationContext {
  readonly state: SecretsState;
  readonly keyring: Keyring;
  readonly authorizer: Authorizer;
  readonly caller: Caller;
  readonly region: string;
  readonly now: Date;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
export type Operation = (ctx: OperationContext, input: Input) => Promise<Output>;

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
// "You can't access a secret from a different AWS account if you encrypt the secret with the
// default KMS service key." (AWS re:Post knowledge center, "secrets-manager-cross-account-key";
// "Access AWS Secrets Manager secrets from a different account").
const DEFAULT_KEY_CROSS_ACCOUNT = "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.";

export const OPERATIONS: Record<string, Operation> = {
  async CreateSecret(ctx, input) {
    const name = string(input, 'Name', { required: true, max: 512 })!;
    if (!/^[A-Za-z0-9/_+=.@-]+$/.test(name)) throw validation('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    const value = secretValue(input);
    const token = clientRequestToken(input);
    const kmsKeyId = string(input, 'KmsKeyId', { max: 2048 });
    const store = ctx.state.store(ctx.caller.account, ctx.region);
    const existing = store.get(name);
    const arn = existing?.arn ?? `arn:${partitionOf(ctx.region)}:secretsmanager:${ctx.region}:${ctx.caller.account}:secret:${name}-${suffix()}`;
    await ctx.authorizer.authorize({ caller: ctx.caller, action: 'secretsmanager:CreateSecret', resource: arn, context: { 'secretsmanager:Name': name, ...(kmsKeyId ? { 'secretsmanager:KmsKeyId': kmsKeyId } : {}) } });
    if (existing?.deletionDate) throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
    if (existing) throw resourceExists(`The operation failed because the secret ${name} already exists.`);
    const secret: SecretRecord = {
      arn, name, account: ctx.caller.account, region: ctx.region, createdDate: ctx.now, lastChangedDate: ctx.now,
      description: string(input, 'Description', { max: 2048 }), kmsKeyId, tags: tags(input), versions: new Map(),
    };
    const version = value ? await addVersion(ctx, secret, value, token ?? randomUUID(), [CURRENT]) : undefined;
    store.set(name, secret);
    return { ARN: arn, Name: name, ...(version ? { VersionId: version.versionId } : {}) };
  },

  async GetSecretValue(ctx, input) {
    const versionId = string(input, 'VersionId', { min: 32, max: 64 });
    const versionStage = string(input, 'VersionStage', { max: 256 });
    const secret = await authorized(ctx, input, 'GetSecretValue', { 'secretsmanager:VersionId': versionId, 'secretsmanager:VersionStage': versionStage });
    const version = findVersion(secret, versionId, versionStage);
    const plaintext = await ctx.keyring.open(keyUse(ctx, secret, version.versionId, 'kms:Decrypt'), version.keyArn, version.blob);
    try {
      version.lastAccessedDate = secret.lastAccessedDate = ctx.now;
      return {
        ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages], CreatedDate: epoch(version.createdDate),
        ...(version.binary ? { SecretBinary: plaintext.toString('base64') } : { SecretString: plaintext.toString('utf8') }),
      };
    } finally {
      plaintext.fill(0);
    }
  },

  async PutSecretValue(ctx, input) {
    const value = secretValue(input);
    if (!value) throw invalidParameter('You must provide either SecretString or SecretBinary.');
    const stages = stringList(input, 'VersionStages') ?? [CURRENT];
    const token = clientRequestToken(input) ?? randomUUID();
    const secret = await authorized(ctx, input, 'PutSecretValue', { 'secretsmanager:VersionId': token });
    const existing = secret.versions.get(token);
    if (existing) {
      // Idempotent retry with the same token and value; a different value cannot reuse the version.
      const same = await ctx.keyring.open(keyUse(ctx, secret, token, 'kms:Decrypt'), existing.keyArn, existing.blob);
      const equal = existing.binary === value.binary && same.equals(value.bytes);
      same.fill(0);
      value.bytes.fill(0);
      if (!equal) throw resourceExists(`You can't modify an existing version, you can only create a new version.`);
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    const version = await addVersion(ctx, secret, value, token, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  },

  async DescribeSecret(ctx, input) {
    const secret = await authorized(ctx, input, 'DescribeSecret', {}, { deleted: true });
    return {
      ARN: secret.arn, Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
      RotationEnabled: false,
      CreatedDate: epoch(secret.createdDate),
      LastChangedDate: epoch(secret.lastChangedDate),
      ...(secret.lastAccessedDate ? { LastAccessedDate: epoch(day(secret.lastAccessedDate)) } : {}),
      ...(secret.deletionDate ? { DeletedDate: epoch(secret.deletionDate) } : {}),
      ...(secret.tags.length ? { Tags: secret.tags } : {}),
      VersionIdsToStages: Object.fromEntries([...secret.versions.values()].filter((v) => v.stages.length).map((v) => [v.versionId, [...v.stages]])),
    };
  },

  async ListSecretVersionIds(ctx, input) {
    const secret = await authorized(ctx, input, 'ListSecretVersionIds');
    const includeDeprecated = input.IncludeDeprecated === true;
    const all = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.length > 0);
    const maxResults = integer(input, 'MaxResults', 1, 100) ?? 100;
    const start = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString()) || 0 : 0;
    const page = all.slice(start, start + maxResults);
    return {
      ARN: secret.arn, Name: secret.name,
      Versions: page.map((v) => ({
        VersionId: v.versionId, VersionStages: [...v.stages], CreatedDate: epoch(v.createdDate), KmsKeyIds: [secret.kmsKeyId ?? 'DefaultEncryptionKey'],
        ...(v.lastAccessedDate ? { LastAccessedDate: epoch(day(v.lastAccessedDate)) } : {}),
      })),
      ...(start + maxResults < all.length ? { NextToken: Buffer.from(String(start + maxResults)).toString('base64') } : {}),
    };
  },

  async UpdateSecretVersionStage(ctx, input) {
    const stage = string(input, 'VersionStage', { required: true, max: 256 })!;
    const removeFrom = string(input, 'RemoveFromVersionId', { min: 32, max: 64 });
    const moveTo = string(input, 'MoveToVersionId', { min: 32, max: 64 });
    const secret = await authorized(ctx, input, 'UpdateSecretVersionStage', { 'secretsmanager:VersionStage': stage });
    const holder = [...secret.versions.values()].find((v) => v.stages.includes(stage));
    for (const id of [removeFrom, moveTo]) if (id && !secret.versions.has(id)) throw invalidParameter(`Not a valid version: ${id}`);
    if (holder && holder.versionId !== moveTo && removeFrom !== holder.versionId) {
      throw invalidParameter(removeFrom
        ? `The parameter RemoveFromVersionId doesn't match. Staging label ${stage} is currently attached to version ${holder.versionId}.`
        : `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`);
    }
    if (!holder && removeFrom) throw invalidParameter(`Version stage ${stage} not found in version ${removeFrom}`);
    if (moveTo) moveStage(secret, stage, secret.versions.get(moveTo)!);
    else if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    secret.lastChangedDate = ctx.now;
    return { ARN: secret.arn, Name: secret.name };
  },

  async DeleteSecret(ctx, input) {
    const window = integer(input, 'RecoveryWindowInDays', 7, 30, 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    const force = input.ForceDeleteWithoutRecovery === true;
    if (window !== undefined && force) throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    const secret = await authorized(ctx, input, 'DeleteSecret', {}, { deleted: force });
    const deletionDate = new Date(ctx.now.getTime() + (force ? 0 : (window ?? 30) * 86_400_000));
    if (force) ctx.state.store(secret.account, secret.region).delete(secret.name);
    else secret.deletionDate = deletionDate;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epoch(deletionDate) };
  },

  async RestoreSecret(ctx, input) {
    const secret = await authorized(ctx, input, 'RestoreSecret', {}, { deleted: true });
    secret.deletionDate = undefined;
    return { ARN: secret.arn, Name: secret.name };
  },

  async PutResourcePolicy(ctx, input) {
    const policy = string(input, 'ResourcePolicy', { required: true, max: 20480 })!;
    const secret = await authorized(ctx, input, 'PutResourcePolicy');
    const statements = parsePolicy(policy);
    // BlockPublicPolicy defaults to true in the API and the CLI ("PutResourcePolicy").
    if (input.BlockPublicPolicy !== false && statements.some(isPublic)) {
      throw publicPolicy('You can\'t attach this resource-based policy because it grants public access to the secret. To attach it, set BlockPublicPolicy to false.');
    }
    secret.policy = policy;
    secret.lastChangedDate = ctx.now;
    return { ARN: secret.arn, Name: secret.name };
  },

  async GetResourcePolicy(ctx, input) {
    const secret = await authorized(ctx, input, 'GetResourcePolicy');
    return { ARN: secret.arn, Name: secret.name, ...(secret.policy !== undefined ? { ResourcePolicy: secret.policy } : {}) };
  },

  async DeleteResourcePolicy(ctx, input) {
    const secret = await authorized(ctx, input, 'DeleteResourcePolicy');
    secret.policy = undefined;
    secret.lastChangedDate = ctx.now;
    return { ARN: secret.arn, Name: secret.name };
  },
};

/** Finds the secret a request names, authorizes the call, and refuses a secret scheduled for deletion. */
async function authorized(ctx: OperationContext, input: Input, operation: string, context: Record<string, string | undefined> = {}, opts: { deleted?: boolean } = {}): Promise<SecretRecord> {
  const secretId = string(input, 'SecretId', { required: true, max: 2048 })!;
  const secret = findSecret(ctx, secretId);
  const conditions: Record<string, string> = { 'secretsmanager:SecretId': secret?.arn ?? secretId };
  for (const [k, v] of Object.entries(context)) if (v !== undefined) conditions[k] = v;
  // A missing secret is denied before it is reported missing, as AWS does for callers without access.
  await ctx.authorizer.authorize({ caller: ctx.caller, action: `secretsmanager:${operation}`, resource: secret?.arn ?? arnGuess(ctx, secretId), secret, context: conditions });
  if (!secret) throw secretNotFound();
  if (secret.deletionDate && !opts.deleted) throw invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
  return secret;
}

/**
 * A name is looked up in the caller's account; another account's secret needs its ARN, full or
 * partial (without the random suffix), in the request's Region.
 */
function findSecret(ctx: OperationContext, secretId: string): SecretRecord | undefined {
  const arn = /^arn:[a-z-]+:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/.exec(secretId);
  if (!arn) return ctx.state.store(ctx.caller.account, ctx.region).get(secretId);
  if (arn[1] !== ctx.region) return undefined;
  const store = ctx.state.store(arn[2], arn[1]);
  const exact = [...store.values()].find((s) => s.arn === secretId);
  return exact ?? store.get(arn[3]);
}

function arnGuess(ctx: OperationContext, secretId: string): string {
  return secretId.startsWith('arn:') ? secretId : `arn:${partitionOf(ctx.region)}:secretsmanager:${ctx.region}:${ctx.caller.account}:secret:${secretId}`;
}

function findVersion(secret: SecretRecord, versionId?: string, versionStage?: string): SecretVersion {
  if (versionId) {
    const version = secret.versions.get(versionId);
    if (!version) throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    if (versionStage && !version.stages.includes(versionStage)) throw invalidRequest('You provided a VersionStage that is not associated to the provided VersionId.');
    return version;
  }
  const stage = versionStage ?? CURRENT;
  const version = [...secret.versions.values()].find((v) => v.stages.includes(stage));
  if (!version) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
  return version;
}

async function addVersion(ctx: OperationContext, secret: SecretRecord, value: { bytes: Buffer; binary: boolean }, versionId: string, stages: string[]): Promise<SecretVersion> {
  let sealed;
  try {
    sealed = await ctx.keyring.seal(keyUse(ctx, secret, versionId, 'kms:GenerateDataKey'), value.bytes);
  } finally {
    value.bytes.fill(0);
  }
  const version: SecretVersion = { versionId, blob: sealed.blob, binary: value.binary, keyArn: sealed.keyArn, createdDate: ctx.now, stages: [] };
  secret.versions.set(versionId, version);
  for (const stage of stages) moveStage(secret, stage, version);
  secret.lastChangedDate = ctx.now;
  return version;
}

/** Attaches `stage` to `to`, taking it from its holder; moving AWSCURRENT leaves AWSPREVIOUS on the old current version. */
function moveStage(secret: SecretRecord, stage: string, to: SecretVersion): void {
  const holder = [...secret.versions.values()].find((v) => v.stages.includes(stage));
  if (holder === to) return;
  if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
  to.stages = [...to.stages.filter((s) => !(stage === CURRENT && s === PREVIOUS)), stage];
  if (stage === CURRENT && holder) moveStage(secret, PREVIOUS, holder);
}

function keyUse(ctx: OperationContext, secret: SecretRecord, versionId: string, action: KeyUse['action']): KeyUse {
  // The AWS managed key's policy allows only callers of its own account through Secrets Manager.
  if (secret.kmsKeyId === undefined && ctx.caller.account !== secret.account) throw invalidRequest(DEFAULT_KEY_CROSS_ACCOUNT);
  return { caller: ctx.caller, action, keyId: secret.kmsKeyId, secretArn: secret.arn, versionId, region: secret.region, account: secret.account };
}

function secretValue(input: Input): { bytes: Buffer; binary: boolean } | undefined {
  const text = string(input, 'SecretString', { max: 65536 });
  const binary = string(input, 'SecretBinary');
  if (text !== undefined && binary !== undefined) throw invalidParameter('You can\'t specify both a binary secret value and a string secret value in the same secret.');
  if (binary !== undefined) {
    const bytes = Buffer.from(binary, 'base64');
    if (bytes.length > 65536) throw validation('1 validation error detected: Value at \'secretBinary\' failed to satisfy constraint: Member must have length less than or equal to 65536');
    return { bytes, binary: true };
  }
  return text !== undefined ? { bytes: Buffer.from(text, 'utf8'), binary: false } : undefined;
}

function clientRequestToken(input: Input): string | undefined {
  const token = string(input, 'ClientRequestToken');
  if (token !== undefined && (token.length < 32 || token.length > 64)) throw invalidParameter('ClientRequestToken must be 32-64 characters long.');
  return token;
}

function tags(input: Input): Array<{ Key: string; Value: string }> {
  if (input.Tags === undefined) return [];
  if (!Array.isArray(input.Tags)) throw validation('Tags must be a list.');
  return input.Tags.map((t) => ({ Key: String(t?.Key), Value: String(t?.Value ?? '') }));
}

function string(input: Input, name: string, opts: { required?: boolean; min?: number; max?: number } = {}): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) {
    if (opts.required) throw validation(`1 validation error detected: Value null at '${camel(name)}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof value !== 'string') throw serializationOf(name);
  if (opts.min !== undefined && value.length < opts.min) throw validation(`1 validation error detected: Value at '${camel(name)}' failed to satisfy constraint: Member must have length greater than or equal to ${opts.min}`);
  if (opts.max !== undefined && value.length > opts.max) throw validation(`1 validation error detected: Value at '${camel(name)}' failed to satisfy constraint: Member must have length less than or equal to ${opts.max}`);
  return value;
}

function stringList(input: Input, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || value.length < 1 || value.length > 20) {
    throw validation(`1 validation error detected: Value at '${camel(name)}' failed to satisfy constraint: Member must have length between 1 and 20`);
  }
  return value as string[];
}

function integer(input: Input, name: string, min: number, max: number, message?: string): number | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationOf(name);
  if (value < min || value > max) throw invalidParameter(message ?? `${name} must be between ${min} and ${max}.`);
  return value;
}

function serializationOf(name: string) {
  return validation(`1 validation error detected: Value at '${camel(name)}' has the wrong type`);
}

function camel(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

function parsePolicy(policy: string): Array<Record<string, any>> {
  let doc: any;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw malformedPolicy('This resource policy contains a syntax error.');
  }
  const statements = doc?.Statement === undefined ? undefined : Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (typeof doc !== 'object' || doc === null || !statements || statements.some((s: any) => typeof s !== 'object' || s === null || !['Allow', 'Deny'].includes(s.Effect))) {
    throw malformedPolicy('This resource policy contains an unsupported or invalid statement.');
  }
  return statements;
}

/** An Allow for everyone without a condition (what Block Public Access refuses). */
function isPublic(statement: Record<string, any>): boolean {
  const principal = statement.Principal;
  const everyone = principal === '*' || (principal && [principal.AWS].flat().includes('*'));
  return statement.Effect === 'Allow' && Boolean(everyone) && !statement.Condition;
}

function suffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Epoch seconds with millisecond precision, as the JSON protocol sends timestamps. */
function epoch(d: Date): number {
  return d.getTime() / 1000;
}

/** Last-accessed dates are rounded down to the day ("DescribeSecret": LastAccessedDate). */
function day(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}
