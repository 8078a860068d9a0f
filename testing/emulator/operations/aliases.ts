/** Aliases: CreateAlias, DeleteAlias, UpdateAlias, ListAliases. */
import { aliasArn } from '../arn';
import { Handler, epoch, paginate } from '../context';
import { alreadyExists, notFound, validation } from '../errors';
import { keyFamily } from '../specs';
import { rejectStates, resolveKey } from '../resolve';
import { KEY_ID, type Input } from '../validation';

const ALIAS_PATTERN = /^[a-zA-Z0-9:/_-]+$/;

function readAliasName(input: Input): string {
  return input.string('AliasName', { required: true, min: 1, max: 256, pattern: ALIAS_PATTERN });
}

function checkAliasName(name: string): void {
  // AWS-rec message.
  if (!name.startsWith('alias/')) {
    throw validation('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (name.startsWith('alias/aws/')) throw validation('Alias names starting with alias/aws/ are reserved for AWS managed keys.');
}

const createAlias: Handler = (ctx, input) => {
  const name = readAliasName(input);
  const target = input.string('TargetKeyId', KEY_ID);
  input.done();
  checkAliasName(name);
  const store = ctx.state.store(ctx.account, ctx.region);
  if (store.aliases.has(name)) throw alreadyExists(`An alias with the name ${aliasArn(ctx.account, ctx.region, name)} already exists`);
  const key = resolveKey(ctx, target);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  store.aliases.set(name, { aliasName: name, targetKeyId: key.keyId, creationDate: ctx.now, lastUpdatedDate: ctx.now });
  return {};
};

const deleteAlias: Handler = (ctx, input) => {
  const name = readAliasName(input);
  input.done();
  checkAliasName(name);
  const store = ctx.state.store(ctx.account, ctx.region);
  if (!store.aliases.delete(name)) throw notFound(`Alias ${aliasArn(ctx.account, ctx.region, name)} is not found.`);
  return {};
};

const updateAlias: Handler = (ctx, input) => {
  const name = readAliasName(input);
  const target = input.string('TargetKeyId', KEY_ID);
  input.done();
  checkAliasName(name);
  const store = ctx.state.store(ctx.account, ctx.region);
  const alias = store.aliases.get(name);
  if (!alias) throw notFound(`Alias ${aliasArn(ctx.account, ctx.region, name)} is not found.`);
  const key = resolveKey(ctx, target);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  // The new key must be of the same type and usage as the current one (UpdateAlias doc).
  const current = store.keys.get(alias.targetKeyId);
  if (current && (current.keyUsage !== key.keyUsage || keyFamily(current.keySpec) !== keyFamily(key.keySpec))) {
    throw validation(`${key.arn} key usage or key spec does not match those of the alias's current key ${current.arn}.`);
  }
  alias.targetKeyId = key.keyId;
  alias.lastUpdatedDate = ctx.now;
  return {};
};

const listAliases: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', { min: 1, max: 2048 });
  const limit = input.integer('Limit', { min: 1, max: 100 });
  const marker = input.string('Marker', { min: 1, max: 1024 });
  input.done();
  const store = ctx.state.store(ctx.account, ctx.region);
  const targetId = keyId === undefined ? undefined : resolveKey(ctx, keyId).keyId;
  const aliases = [...store.aliases.values()]
    .filter((a) => targetId === undefined || a.targetKeyId === targetId)
    .sort((a, b) => a.aliasName.localeCompare(b.aliasName))
    .map((a) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArn(ctx.account, ctx.region, a.aliasName),
      TargetKeyId: a.targetKeyId,
      CreationDate: epoch(a.creationDate),
      LastUpdatedDate: epoch(a.lastUpdatedDate),
    }));
  const { page, ...rest } = paginate(aliases, limit ?? 50, marker);
  return { Aliases: page, ...rest };
};

export const aliasOperations: Record<string, Handler> = {
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
  UpdateAlias: updateAlias,
  ListAliases: listAliases,
};
