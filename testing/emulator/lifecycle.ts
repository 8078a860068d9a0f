/**
 * How a key's state follows from its materials, and what deleting or expiring a material does
 * ("Deleting imported key material" and "Key states of AWS KMS keys", AWS KMS Developer Guide).
 * The KeyState is derived, never stored, so it cannot drift from the materials.
 */
import type { EmulatorState, KeyMaterialRecord, KeyState, KmsKey } from './state';

const PENDING_STATES = new Set(['PENDING_ROTATION', 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION']);

export function isPending(m: KeyMaterialRecord): boolean {
  return PENDING_STATES.has(m.state);
}

export function isImported(m: KeyMaterialRecord): boolean {
  return m.material !== undefined;
}

/** CURRENT and NON_CURRENT: the materials permanently associated with the key. */
export function permanentMaterials(key: KmsKey): KeyMaterialRecord[] {
  return key.materials.filter((m) => !isPending(m));
}

export function currentMaterial(key: KmsKey): KeyMaterialRecord | undefined {
  return key.materials.find((m) => m.state === 'CURRENT');
}

export function pendingMaterial(key: KmsKey): KeyMaterialRecord | undefined {
  return key.materials.find(isPending);
}

/**
 * KeyState:
 * - PendingDeletion / PendingReplicaDeletion while deletion is scheduled;
 * - PendingImport for an EXTERNAL key until every permanently associated material is imported
 *   (a key whose permanently associated material is deleted or expired is PendingImport,
 *   "Deleting imported key material");
 * - otherwise Enabled or Disabled as EnableKey/DisableKey left it. A Disabled key whose material is
 *   deleted and re-imported comes back Disabled (the emulator's choice, README.md "Choices").
 */
export function keyState(key: KmsKey): KeyState {
  if (key.deletion) return key.deletion.date ? 'PendingDeletion' : 'PendingReplicaDeletion';
  if (key.origin === 'EXTERNAL') {
    const permanent = permanentMaterials(key);
    if (permanent.length === 0 || !permanent.every(isImported)) return 'PendingImport';
  }
  return key.enabled ? 'Enabled' : 'Disabled';
}

/**
 * DeleteImportedKeyMaterial on one material, also what expiry does (DeleteImportedKeyMaterial API
 * reference):
 * - a pending material is removed altogether; on a multi-Region primary also from the replicas;
 * - any other material loses its bytes (ImportState PENDING_IMPORT) and its expiration, which makes
 *   the key PendingImport; its id stays, so only the identical material can be imported again.
 */
export function deleteMaterial(state: EmulatorState, key: KmsKey, m: KeyMaterialRecord): void {
  if (isPending(m) && key.multiRegion?.type !== 'REPLICA') {
    for (const member of state.mrkMembers(key)) {
      member.materials = member.materials.filter((x) => x.keyMaterialId !== m.keyMaterialId);
    }
    return;
  }
  m.material?.fill(0);
  m.material = undefined;
  m.expirationModel = undefined;
  m.validTo = undefined;
  syncPendingRotation(state, key);
}

/**
 * A multi-Region primary's new material is PENDING_MULTI_REGION_IMPORT_AND_ROTATION until every
 * replica has imported it, then PENDING_ROTATION on all of them
 * ("Importing key material into multi-Region keys", AWS KMS Developer Guide).
 */
export function syncPendingRotation(state: EmulatorState, key: KmsKey): void {
  if (!key.multiRegion) return;
  const primary = state.primaryOf(key);
  const pending = primary && pendingMaterial(primary);
  if (!primary || !pending) return;
  const replicas = state.replicasOf(primary);
  const everywhere = replicas.every((r) => r.materials.some((m) => m.keyMaterialId === pending.keyMaterialId && isImported(m)));
  const next = everywhere ? 'PENDING_ROTATION' : 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION';
  for (const member of [primary, ...replicas]) {
    const m = member.materials.find((x) => x.keyMaterialId === pending.keyMaterialId);
    if (m) m.state = next;
  }
}

/**
 * Applies the passage of time, lazily before every request (ValidTo in the ImportKeyMaterial API reference): materials whose
 * ValidTo has passed are deleted as by DeleteImportedKeyMaterial, and keys whose deletion date
 * has passed disappear. A primary in PendingReplicaDeletion starts its waiting period once its
 * last replica is gone.
 */
export function sweep(state: EmulatorState, now: Date): void {
  for (const key of [...state.allKeys()]) {
    for (const m of [...key.materials]) {
      if (m.material && m.validTo && m.validTo.getTime() <= now.getTime()) deleteMaterial(state, key, m);
    }
    const deletion = key.deletion;
    if (deletion && !deletion.date && state.replicasOf(key).length === 0) {
      deletion.date = new Date(now.getTime() + deletion.windowDays * 86_400_000);
    }
    if (deletion?.date && deletion.date.getTime() <= now.getTime()) state.removeKey(key);
  }
}
