/**
 * Rotation: RotateKeyOnDemand and ListKeyRotations ("Perform on-demand key rotation", AWS KMS
 * Developer Guide), and the automatic-rotation switches
 * (EnableKeyRotation / DisableKeyRotation / GetKeyRotationStatus), which EXTERNAL keys refuse.
 */
import { Handler, epoch, paginate } from '../context';
import { invalidState, limitExceeded, unsupported } from '../errors';
import { currentMaterial, isImported, pendingMaterial } from '../lifecycle';
import { generateKeyMaterial, keyMaterialId, sha256Hex } from '../material';
import { requireEnabled, requireOrigin, resolveKey } from '../resolve';
import type { KeyMaterialRecord, KmsKey } from '../state';
import { KEY_ID } from '../validation';

/** On-demand rotations per KMS key ("Perform on-demand key rotation"; 10 before 2026-02-16). */
export const ON_DEMAND_ROTATION_LIMIT = 25;

const rotateKeyOnDemand: Handler = async (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.done();
  const key = resolveKey(ctx, keyId);
  // Asymmetric and HMAC keys: UnsupportedOperationException with no message (AWS-rec).
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw unsupported();
  // Only the primary rotates; its replicas follow (RotateKeyOnDemand API reference).
  if (key.multiRegion?.type === 'REPLICA') throw unsupported(`${key.arn} is not a multi-region primary key.`);
  requireEnabled(key);
  if (key.onDemandRotations >= ON_DEMAND_ROTATION_LIMIT) {
    throw limitExceeded(`The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.arn}`);
  }

  const members = ctx.state.mrkMembers(key);
  let next: KeyMaterialRecord;
  if (key.origin === 'EXTERNAL') {
    const pending = pendingMaterial(key);
    if (!pending) throw invalidState(`No available key material pending rotation for the key: ${key.arn}.`);
    if (pending.state !== 'PENDING_ROTATION') {
      throw invalidState(`Key material (id: ${pending.keyMaterialId}) of ${key.arn} must be imported into every replica key before rotation.`);
    }
    next = pending;
  } else {
    const material = (await generateKeyMaterial(key.keySpec, key.region))!;
    next = { keyMaterialId: keyMaterialId(key.keyId, material), fingerprint: sha256Hex(material), material, state: 'PENDING_ROTATION' };
    // KMS shares AWS_KMS material across a multi-Region key.
    for (const member of members) member.materials.push({ ...next, material: Buffer.from(material) });
  }

  // Immediate here; asynchronous on AWS. Old CURRENT → NON_CURRENT (still decrypts).
  for (const member of members) {
    const old = currentMaterial(member);
    if (old) old.state = 'NON_CURRENT';
    const m = member.materials.find((x) => x.keyMaterialId === next.keyMaterialId);
    if (m) {
      m.state = 'CURRENT';
      m.rotationDate = ctx.now;
      m.rotationType = 'ON_DEMAND';
    }
  }
  key.onDemandRotations += 1;
  return { KeyId: key.arn };
};

const listKeyRotations: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const include = input.enumValue('IncludeKeyMaterial', ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] as const) ?? 'ROTATIONS_ONLY';
  const limit = input.integer('Limit', { min: 1, max: 1000 });
  const marker = input.string('Marker', { min: 1, max: 1024 });
  input.done();
  const key = resolveKey(ctx, keyId);
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw unsupported();
  // ROTATIONS_ONLY: materials that came from a rotation; ALL_KEY_MATERIAL adds the first and the pending one.
  const listed = include === 'ALL_KEY_MATERIAL' ? key.materials : key.materials.filter((m) => m.rotationDate);
  const { page, ...rest } = paginate(listed.map((m) => rotationEntry(key, m)), limit, marker);
  return { Rotations: page, ...rest };
};

function rotationEntry(key: KmsKey, m: KeyMaterialRecord): Record<string, unknown> {
  const e: Record<string, unknown> = { KeyId: key.arn, KeyMaterialId: m.keyMaterialId, KeyMaterialState: m.state };
  if (m.rotationDate) {
    e.RotationDate = epoch(m.rotationDate);
    e.RotationType = m.rotationType;
  }
  // ImportState, ExpirationModel, ValidTo and KeyMaterialDescription: EXTERNAL keys only (the RotationsListEntry data type).
  if (key.origin === 'EXTERNAL') {
    e.ImportState = isImported(m) ? 'IMPORTED' : 'PENDING_IMPORT';
    if (m.expirationModel) e.ExpirationModel = m.expirationModel;
    if (m.validTo) e.ValidTo = epoch(m.validTo);
    if (m.description !== undefined) e.KeyMaterialDescription = m.description;
  }
  return e;
}

/** Automatic rotation is for AWS_KMS symmetric keys (EnableKeyRotation API reference; the origin message is AWS-rec). */
function automaticRotationKey(key: KmsKey): void {
  requireOrigin(key, 'AWS_KMS');
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') throw unsupported(`${key.arn} key spec is ${key.keySpec} which is not valid for this operation.`);
  if (key.multiRegion?.type === 'REPLICA') throw unsupported(`${key.arn} is not a multi-region primary key.`);
}

const enableKeyRotation: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  const period = input.integer('RotationPeriodInDays', { min: 90, max: 2560 }) ?? 365;
  input.done();
  const key = resolveKey(ctx, keyId);
  automaticRotationKey(key);
  requireEnabled(key);
  key.rotation = { enabled: true, periodDays: period };
  return {};
};

const disableKeyRotation: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.done();
  const key = resolveKey(ctx, keyId);
  automaticRotationKey(key);
  requireEnabled(key);
  key.rotation = { ...key.rotation, enabled: false };
  return {};
};

const getKeyRotationStatus: Handler = (ctx, input) => {
  const keyId = input.string('KeyId', KEY_ID);
  input.done();
  const key = resolveKey(ctx, keyId);
  const out: Record<string, unknown> = { KeyId: key.arn, KeyRotationEnabled: key.rotation.enabled };
  if (key.rotation.enabled) {
    out.RotationPeriodInDays = key.rotation.periodDays;
    out.NextRotationDate = epoch(new Date(ctx.now.getTime() + key.rotation.periodDays * 86_400_000));
  }
  return out;
};

export const rotationOperations: Record<string, Handler> = {
  RotateKeyOnDemand: rotateKeyOnDemand,
  ListKeyRotations: listKeyRotations,
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
};
