/**
 * Finding the key a request names, and the key-state checks shared by the operations
 * ("Key identifiers (KeyId)", AWS KMS Developer Guide; the messages are AWS-rec).
 */
import { aliasArn, isWellFormedKeyId, keyArn, parseKmsArn } from './arn';
import type { RequestContext } from './context';
import { disabled, invalidState, notFound, unsupported } from './errors';
import { keyState } from './lifecycle';
import type { KeyState, KmsKey } from './state';

export interface ResolveOptions {
  /**
   * Whether an alias name or alias ARN may name the key. The import APIs take only a key id or
   * key ARN ("you cannot use an alias", the Developer Guide's import pages); what AWS answers to
   * an alias there is not documented (NotFoundException, inferred).
   */
  aliases?: boolean;
  /** The IAM action to authorize. @default `kms:<operation>` */
  action?: string;
}

/**
 * The key a request names, once the caller is authorized to use it (AccessDeniedException comes
 * after NotFoundException and before any key-state error, as in KMS).
 */
export function resolveKey(ctx: RequestContext, value: string, opts: ResolveOptions = {}): KmsKey {
  const { key, alias } = findNamedKey(ctx, value, opts);
  ctx.authz.key(key, { action: opts.action, alias });
  return key;
}

function findNamedKey(ctx: RequestContext, value: string, opts: ResolveOptions): { key: KmsKey; alias?: string } {
  if (value.startsWith('alias/')) {
    if (!opts.aliases) throw notFound(`Invalid keyId '${value}'`);
    return { key: resolveAlias(ctx, ctx.account, value), alias: value };
  }
  if (value.startsWith('arn:')) {
    const arn = parseKmsArn(value);
    if (!arn) throw notFound(`Invalid arn ${value}`);
    // An ARN of another Region: "Invalid arn <region>" (AWS-rec).
    if (arn.region !== ctx.region) throw notFound(`Invalid arn ${arn.region}`);
    if (arn.resourceType === 'alias') {
      if (!opts.aliases) throw notFound(`Invalid keyId '${value}'`);
      return { key: resolveAlias(ctx, arn.account, arn.resource), alias: arn.resource };
    }
    return { key: findKey(ctx, arn.account, arn.resource) };
  }
  return { key: findKey(ctx, ctx.account, value) };
}

function findKey(ctx: RequestContext, account: string, keyId: string): KmsKey {
  if (!isWellFormedKeyId(keyId)) throw notFound(`Invalid keyId '${keyId}'`);
  const key = ctx.state.store(account, ctx.region).keys.get(keyId);
  if (!key) throw notFound(`Key '${keyArn(account, ctx.region, keyId)}' does not exist`);
  return key;
}

function resolveAlias(ctx: RequestContext, account: string, aliasName: string): KmsKey {
  const store = ctx.state.store(account, ctx.region);
  const alias = store.aliases.get(aliasName);
  if (!alias) throw notFound(`Alias ${aliasArn(account, ctx.region, aliasName)} is not found.`);
  return findKey(ctx, account, alias.targetKeyId);
}

const STATE_PHRASES: Partial<Record<KeyState, string>> = {
  PendingImport: 'is pending import.',
  PendingDeletion: 'is pending deletion.',
  PendingReplicaDeletion: 'is pending replica deletion.',
  Creating: 'is creating.',
  Updating: 'is updating.',
  Unavailable: 'is unavailable.',
  Disabled: 'is disabled.',
};

/** The error for a key in a state the operation cannot accept: `<arn> is pending import.` etc. */
export function stateError(key: KmsKey, state: KeyState = keyState(key)) {
  const message = `${key.arn} ${STATE_PHRASES[state] ?? 'is in an invalid state.'}`;
  return state === 'Disabled' ? disabled(message) : invalidState(message);
}

/** Cryptographic operations need an Enabled key ("Key states of AWS KMS keys", AWS KMS Developer Guide). */
export function requireEnabled(key: KmsKey): void {
  const s = keyState(key);
  if (s !== 'Enabled') throw stateError(key, s);
}

/** Throws the state error if the key is in one of `states`. */
export function rejectStates(key: KmsKey, states: KeyState[]): void {
  const s = keyState(key);
  if (states.includes(s)) throw stateError(key, s);
}

/** `<arn> origin is <ORIGIN> which is not valid for this operation.` (AWS-rec). */
export function requireOrigin(key: KmsKey, origin: KmsKey['origin']): void {
  if (key.origin !== origin) throw unsupported(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
}
