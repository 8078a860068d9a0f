/**
 * ReplicateKey for multi-Region keys, including EXTERNAL ones ("Importing key material into
 * multi-Region keys", AWS KMS Developer Guide).
 */
import { partitionOf } from '../arn';
import { Handler } from '../context';
import { alreadyExists, unsupported, validation } from '../errors';
import { syncPendingRotation } from '../lifecycle';
import { keyMetadata } from '../metadata';
import { requireEnabled, resolveKey } from '../resolve';
import { KEY_ID } from '../validation';
import { buildKey, checkTags, readTags } from './keys';

const replicateKey: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const replicaRegion = input.string('ReplicaRegion', { required: true, min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/ });
  const policy = input.string('Policy', { min: 1, max: 32768 });
  const bypass = input.boolean('BypassPolicyLockoutSafetyCheck') ?? false;
  const description = input.string('Description', { max: 8192 });
  const tags = readTags(input);
  input.done();

  const primary = resolveKey(ctx, keyId);
  if (primary.account !== ctx.account) throw unsupported(`ReplicateKey must be called in the account of ${primary.arn}.`);
  if (!primary.multiRegion) throw unsupported(`${primary.arn} is not a multi-region key.`);
  if (primary.multiRegion.type !== 'PRIMARY') throw unsupported(`${primary.arn} is not a multi-region primary key.`); // AWS-rec
  // The primary must be Enabled: PendingImport → KMSInvalidStateException, Disabled → DisabledException ("Key states of AWS KMS keys").
  requireEnabled(primary);
  if (replicaRegion === primary.region || partitionOf(replicaRegion) !== partitionOf(primary.region)) {
    throw validation(`${replicaRegion} is not a valid replica Region for ${primary.arn}.`);
  }
  if (ctx.state.store(ctx.account, replicaRegion).keys.has(primary.keyId)) {
    throw alreadyExists(`Multi-Region key ${primary.keyId} already has a replica key in ${replicaRegion}.`);
  }
  if (policy !== undefined) ctx.authz.checkKeyPolicy(policy, { account: ctx.account, region: replicaRegion, keyId: primary.keyId }, bypass);
  checkTags(tags);

  const replica = buildKey(ctx, {
    keyId: primary.keyId,
    region: replicaRegion,
    spec: primary.keySpec,
    usage: primary.keyUsage,
    origin: primary.origin,
    description: description ?? '',
    policy,
    tags,
    multiRegion: { type: 'REPLICA', primaryRegion: primary.region },
  });
  // KMS shares AWS_KMS material with the replica. For EXTERNAL keys it copies nothing: the replica
  // knows the ids (and descriptions) of the primary's materials and waits for the same bytes
  // through its own GetParametersForImport / ImportKeyMaterial.
  replica.materials = primary.materials.map((m) => ({
    keyMaterialId: m.keyMaterialId,
    fingerprint: m.fingerprint,
    state: m.state,
    description: m.description,
    rotationDate: m.rotationDate,
    rotationType: m.rotationType,
    material: primary.origin === 'EXTERNAL' || !m.material ? undefined : Buffer.from(m.material),
  }));
  ctx.state.store(ctx.account, replicaRegion).keys.set(replica.keyId, replica);
  syncPendingRotation(ctx.state, primary);

  // The response shows the replica as Creating (AWS-rec); it is usable (or PendingImport) at once here.
  const out: Record<string, unknown> = { ReplicaKeyMetadata: keyMetadata(ctx.state, replica, 'Creating'), ReplicaPolicy: replica.policy };
  if (tags.length > 0) out.ReplicaTags = tags;
  return out;
};

export const replicationOperations: Record<string, Handler> = {
  ReplicateKey: replicateKey,
};
