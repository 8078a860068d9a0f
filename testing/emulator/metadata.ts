/**
 * KeyMetadata exactly in the shape recorded from real AWS (the KeyMetadata data type in the KMS
 * API reference names the fields; which ones appear before and after an import was recorded).
 */
import { keyArn } from './arn';
import { epoch } from './context';
import { currentMaterial, isImported, keyState, permanentMaterials } from './lifecycle';
import { algorithmsFor, keyFamily } from './specs';
import type { EmulatorState, KeyState, KmsKey } from './state';

/** Specs that also appear in the deprecated CustomerMasterKeySpec enum. */
const CUSTOMER_MASTER_KEY_SPECS = new Set(['SYMMETRIC_DEFAULT', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2']);

export function keyMetadata(state: EmulatorState, key: KmsKey, stateOverride?: KeyState): Record<string, unknown> {
  const ks = stateOverride ?? keyState(key);
  const md: Record<string, unknown> = {
    AWSAccountId: key.account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: epoch(key.creationDate),
    Enabled: ks === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: ks,
    Origin: key.origin,
    KeyManager: key.awsManaged ? 'AWS' : 'CUSTOMER',
    KeySpec: key.keySpec,
    ...algorithmsFor(key.keySpec, key.keyUsage),
    MultiRegion: key.multiRegion !== undefined,
  };
  if (CUSTOMER_MASTER_KEY_SPECS.has(key.keySpec)) md.CustomerMasterKeySpec = key.keySpec;
  if (key.deletion?.date) md.DeletionDate = epoch(key.deletion.date);
  if (ks === 'PendingReplicaDeletion') md.PendingDeletionWindowInDays = key.deletion?.windowDays;
  if (key.multiRegion) md.MultiRegionConfiguration = multiRegionConfiguration(state, key);

  // ExpirationModel only for EXTERNAL keys with imported material; ValidTo is the earliest expiry
  // among the permanently associated materials (the pending one is excluded).
  if (key.origin === 'EXTERNAL') {
    const imported = permanentMaterials(key).filter(isImported);
    if (imported.length > 0) {
      const expiries = imported.filter((m) => m.expirationModel === 'KEY_MATERIAL_EXPIRES' && m.validTo).map((m) => m.validTo!.getTime());
      md.ExpirationModel = expiries.length > 0 ? 'KEY_MATERIAL_EXPIRES' : 'KEY_MATERIAL_DOES_NOT_EXPIRE';
      if (expiries.length > 0) md.ValidTo = Math.min(...expiries) / 1000;
    }
  }
  // Symmetric keys only; kept after the material is deleted (AWS-rec).
  if (keyFamily(key.keySpec) === 'SYMMETRIC') {
    const current = currentMaterial(key);
    if (current) md.CurrentKeyMaterialId = current.keyMaterialId;
  }
  return md;
}

/**
 * The primary's view lists every replica; a replica's view lists only itself (AWS-rec).
 */
function multiRegionConfiguration(state: EmulatorState, key: KmsKey): Record<string, unknown> {
  const primaryRegion = key.multiRegion!.primaryRegion;
  const entry = (region: string) => ({ Arn: keyArn(key.account, region, key.keyId), Region: region });
  const replicas = key.multiRegion!.type === 'PRIMARY' ? state.replicasOf(key).map((r) => entry(r.region)) : [entry(key.region)];
  return { MultiRegionKeyType: key.multiRegion!.type, PrimaryKey: entry(primaryRegion), ReplicaKeys: replicas };
}
