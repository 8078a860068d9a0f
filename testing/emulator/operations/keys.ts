/**
 * Key management: CreateKey, DescribeKey, ListKeys, EnableKey/DisableKey, key deletion,
 * key policies, tags and descriptions.
 */
import * as crypto from 'crypto';
import { keyArn, partitionOf } from '../arn';
import { Handler, RequestContext, epoch, paginate } from '../context';
import { invalidState, notFound, tagError, unsupported, validation } from '../errors';
import { keyState } from '../lifecycle';
import { generateKeyMaterial, keyMaterialId, sha256Hex } from '../material';
import { keyMetadata } from '../metadata';
import { rejectStates, resolveKey } from '../resolve';
import { KEY_SPECS, KEY_USAGES, KeySpec, KeyUsage, ORIGINS, allowedUsages, isChinaRegion, isImportable } from '../specs';
import type { KmsKey, Tag } from '../state';
import { Input, KEY_ID } from '../validation';

const CUSTOMER_MASTER_KEY_SPECS = KEY_SPECS.filter((s) => !s.startsWith('ML_') && s !== 'ECC_NIST_EDWARDS25519');

export function defaultKeyPolicy(account: string, region: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partitionOf(region)}:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** Tags as KMS checks them (messages AWS-rec: "Tags beginning with aws: are reserved", "Duplicate tag keys", "Too many tags"). */
export function readTags(input: Input, member = 'Tags'): Tag[] {
  const raw = input.objectList(member) ?? [];
  const tags = raw.map((t, i) => {
    const tagInput = new Input(t);
    const TagKey = tagInput.string('TagKey', { required: true });
    const TagValue = tagInput.string('TagValue', { required: true });
    if (TagKey.length < 1 || TagKey.length > 128) {
      input.fail(`${member}.${i + 1}.member.tagKey`, TagKey, `Member must have length ${TagKey.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 128'}`);
    }
    if (TagValue.length > 256) input.fail(`${member}.${i + 1}.member.tagValue`, TagValue, 'Member must have length less than or equal to 256');
    tagInput.done();
    return { TagKey, TagValue };
  });
  return tags;
}

export function checkTags(tags: Tag[], existing: Tag[] = []): void {
  if (tags.some((t) => t.TagKey.toLowerCase().startsWith('aws:'))) throw tagError('Tags beginning with aws: are reserved');
  const keys = tags.map((t) => t.TagKey);
  if (new Set(keys).size !== keys.length) throw tagError('Duplicate tag keys');
  const merged = new Set([...existing.map((t) => t.TagKey), ...keys]);
  if (merged.size > 50) throw tagError('Too many tags');
}

function newKeyId(multiRegion: boolean): string {
  return multiRegion ? `mrk-${crypto.randomBytes(16).toString('hex')}` : crypto.randomUUID();
}

/** A new key record, without material. */
export function buildKey(
  ctx: RequestContext,
  p: { keyId: string; region: string; spec: KeySpec; usage: KeyUsage; origin: KmsKey['origin']; description: string; policy?: string; tags: Tag[]; multiRegion?: KmsKey['multiRegion'] },
): KmsKey {
  const key: KmsKey = {
    keyId: p.keyId,
    arn: keyArn(ctx.account, p.region, p.keyId),
    account: ctx.account,
    region: p.region,
    creationDate: ctx.now,
    description: p.description,
    keySpec: p.spec,
    keyUsage: p.usage,
    origin: p.origin,
    policy: p.policy ?? defaultKeyPolicy(ctx.account, p.region),
    tags: p.tags,
    enabled: true,
    multiRegion: p.multiRegion,
    materials: [],
    everImported: false,
    onDemandRotations: 0,
    rotation: { enabled: false, periodDays: 365 },
  };
  return key;
}

const createKey: Handler = async (ctx, input) => {
  const policy = input.string('Policy', { min: 1, max: 32768 });
  const description = input.string('Description', { max: 8192 }) ?? '';
  const usageIn = input.enumValue('KeyUsage', KEY_USAGES);
  const cmkSpec = input.enumValue('CustomerMasterKeySpec', CUSTOMER_MASTER_KEY_SPECS);
  const specIn = input.enumValue('KeySpec', KEY_SPECS);
  const origin = input.enumValue('Origin', ORIGINS) ?? 'AWS_KMS';
  input.string('CustomKeyStoreId', { min: 1, max: 64 });
  const bypass = input.boolean('BypassPolicyLockoutSafetyCheck') ?? false;
  const multiRegion = input.boolean('MultiRegion') ?? false;
  const tags = readTags(input);
  input.done();

  if (specIn && cmkSpec) throw validation('You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.');
  const spec: KeySpec = specIn ?? cmkSpec ?? 'SYMMETRIC_DEFAULT';
  if (!usageIn && spec !== 'SYMMETRIC_DEFAULT') {
    throw validation('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  }
  const usage: KeyUsage = usageIn ?? 'ENCRYPT_DECRYPT';
  if (!allowedUsages(spec).includes(usage)) throw validation(`KeyUsage ${usage} is not compatible with KeySpec ${spec}`);
  // SM2 keys exist only in the China Regions ("Key spec reference", AWS KMS Developer Guide; exception type inferred).
  if (spec === 'SM2' && !isChinaRegion(ctx.region)) throw unsupported(`KeySpec SM2 is not supported in Region ${ctx.region}.`);
  if (origin === 'AWS_CLOUDHSM' || origin === 'EXTERNAL_KEY_STORE') {
    throw unsupported(`Origin ${origin} needs a custom key store, which this emulator does not provide.`);
  }
  // ML-DSA material cannot be imported ("Importing ML-DSA keys is not supported"); rejected at
  // CreateKey (inferred). Edwards25519 and ML-KEM are not on the importable list either.
  if (origin === 'EXTERNAL' && !isImportable(spec)) throw unsupported(`KeySpec ${spec} is not supported for KMS keys with EXTERNAL origin.`);
  checkTags(tags);
  const keyId = newKeyId(multiRegion);
  if (policy !== undefined) ctx.authz.checkKeyPolicy(policy, { account: ctx.account, region: ctx.region, keyId }, bypass);
  const key = buildKey(ctx, {
    keyId,
    region: ctx.region,
    spec,
    usage,
    origin,
    description,
    policy,
    tags,
    multiRegion: multiRegion ? { type: 'PRIMARY', primaryRegion: ctx.region } : undefined,
  });
  if (origin === 'AWS_KMS') {
    const material = await generateKeyMaterial(spec, ctx.region);
    if (material) key.materials.push({ keyMaterialId: keyMaterialId(keyId, material), fingerprint: sha256Hex(material), material, state: 'CURRENT' });
  }
  ctx.state.store(ctx.account, ctx.region).keys.set(keyId, key);
  return { KeyMetadata: keyMetadata(ctx.state, key) };
};

const describeKey: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.stringList('GrantTokens');
  input.done();
  const key = resolveKey(ctx, keyId, { aliases: true });
  return { KeyMetadata: keyMetadata(ctx.state, key) };
};

const listKeys: Handler = (ctx, input) => {
  const limit = input.integer('Limit', { min: 1, max: 1000 });
  const marker = input.string('Marker', { min: 1, max: 1024 });
  input.done();
  const keys = [...ctx.state.store(ctx.account, ctx.region).keys.values()].map((k) => ({ KeyId: k.keyId, KeyArn: k.arn }));
  const { page, ...rest } = paginate(keys, limit, marker);
  return { Keys: page, ...rest };
};

/** EnableKey / DisableKey: not on PendingImport or PendingDeletion keys ("Key states of AWS KMS keys", AWS KMS Developer Guide). */
function setEnabled(enabled: boolean): Handler {
  return (ctx, input) => {
    const keyId = input.string('KeyId', KEY_ID);
    input.done();
    const key = resolveKey(ctx, keyId);
    rejectStates(key, ['PendingImport', 'PendingDeletion', 'PendingReplicaDeletion', 'Creating', 'Updating', 'Unavailable']);
    key.enabled = enabled;
    return {};
  };
}

const scheduleKeyDeletion: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const windowDays = input.integer('PendingWindowInDays', { min: 7, max: 30 }) ?? 30;
  input.done();
  const key = resolveKey(ctx, keyId);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion', 'Creating', 'Updating']);
  // A primary with replicas waits for them (PendingReplicaDeletion), then its own window starts.
  const waitForReplicas = key.multiRegion?.type === 'PRIMARY' && ctx.state.replicasOf(key).length > 0;
  key.deletion = { windowDays, date: waitForReplicas ? undefined : new Date(ctx.now.getTime() + windowDays * 86_400_000) };
  const out: Record<string, unknown> = { KeyId: key.arn, KeyState: keyState(key), PendingWindowInDays: windowDays };
  if (key.deletion.date) out.DeletionDate = epoch(key.deletion.date);
  return out;
};

const cancelKeyDeletion: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.done();
  const key = resolveKey(ctx, keyId);
  if (!key.deletion) throw invalidState(`${key.arn} is not pending deletion.`);
  // A key whose deletion is cancelled comes back Disabled (or PendingImport without material).
  key.deletion = undefined;
  key.enabled = false;
  return { KeyId: key.arn };
};

function policyName(input: Input): string {
  return input.string('PolicyName', { min: 1, max: 128, pattern: /^[\w]+$/ }) ?? 'default';
}

const getKeyPolicy: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const name = policyName(input);
  input.done();
  const key = resolveKey(ctx, keyId);
  if (name !== 'default') throw notFound('No such policy exists');
  return { Policy: key.policy, PolicyName: 'default' };
};

const putKeyPolicy: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const name = policyName(input);
  const policy = input.string('Policy', { required: true, min: 1, max: 32768 });
  const bypass = input.boolean('BypassPolicyLockoutSafetyCheck') ?? false;
  input.done();
  const key = resolveKey(ctx, keyId);
  if (name !== 'default') throw notFound('No such policy exists');
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  ctx.authz.checkKeyPolicy(policy, key, bypass);
  key.policy = policy;
  return {};
};

const listKeyPolicies: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.integer('Limit', { min: 1, max: 1000 });
  input.string('Marker');
  input.done();
  resolveKey(ctx, keyId);
  return { PolicyNames: ['default'], Truncated: false };
};

const updateKeyDescription: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const description = input.string('Description', { required: true, max: 8192 });
  input.done();
  const key = resolveKey(ctx, keyId);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  key.description = description;
  return {};
};

const tagResource: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  if (!input.has('Tags')) input.fail('Tags', null, 'Member must not be null');
  const tags = readTags(input);
  input.done();
  const key = resolveKey(ctx, keyId);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  checkTags(tags, key.tags);
  for (const t of tags) {
    const existing = key.tags.find((x) => x.TagKey === t.TagKey);
    if (existing) existing.TagValue = t.TagValue;
    else key.tags.push(t);
  }
  return {};
};

const untagResource: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const tagKeys = input.stringList('TagKeys');
  if (!tagKeys) input.fail('TagKeys', null, 'Member must not be null');
  input.done();
  const key = resolveKey(ctx, keyId);
  rejectStates(key, ['PendingDeletion', 'PendingReplicaDeletion']);
  key.tags = key.tags.filter((t) => !tagKeys!.includes(t.TagKey));
  return {};
};

const listResourceTags: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const limit = input.integer('Limit', { min: 1, max: 50 });
  const marker = input.string('Marker');
  input.done();
  const key = resolveKey(ctx, keyId);
  const { page, ...rest } = paginate(key.tags, limit ?? 50, marker);
  return { Tags: page, ...rest };
};

/** GenerateRandom needs no key; handy for clients that probe the endpoint. */
const generateRandom: Handler = (_ctx, input) => {
  const n = input.integer('NumberOfBytes', { min: 1, max: 1024 });
  input.string('CustomKeyStoreId');
  input.done();
  if (n === undefined) throw validation('NumberOfBytes is required.');
  return { Plaintext: crypto.randomBytes(n).toString('base64') };
};

export const keyOperations: Record<string, Handler> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  EnableKey: setEnabled(true),
  DisableKey: setEnabled(false),
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  GetKeyPolicy: getKeyPolicy,
  PutKeyPolicy: putKeyPolicy,
  ListKeyPolicies: listKeyPolicies,
  UpdateKeyDescription: updateKeyDescription,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
  GenerateRandom: generateRandom,
};
