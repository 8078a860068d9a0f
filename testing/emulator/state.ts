/**
 * The emulator's data: keys and aliases per (account, Region), and the outstanding import tokens.
 */
import type { KeyObject } from 'crypto';
import type { GrantRecord } from './authorize';
import type { KeySpec, KeyUsage, Origin, WrappingAlgorithm, WrappingKeySpec } from './specs';

export type KeyState = 'Creating' | 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion' | 'PendingImport' | 'Unavailable' | 'Updating';
export type KeyMaterialState = 'CURRENT' | 'NON_CURRENT' | 'PENDING_ROTATION' | 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION';
export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

/**
 * One key material of a KMS key (the RotationsListEntry data type). Symmetric keys may hold several;
 * all other keys hold at most one, always CURRENT.
 */
export interface KeyMaterialRecord {
  keyMaterialId: string;
  /** SHA-256 of the canonical material; kept after deletion so inspectKey can still name it. */
  fingerprint: string;
  /** Canonical material while imported; undefined = ImportState PENDING_IMPORT (deleted, expired, or not yet imported into a replica). */
  material?: Buffer;
  state: KeyMaterialState;
  expirationModel?: ExpirationModel;
  validTo?: Date;
  description?: string;
  rotationDate?: Date;
  rotationType?: 'AUTOMATIC' | 'ON_DEMAND';
}

export interface Tag {
  TagKey: string;
  TagValue: string;
}

export interface KmsKey {
  keyId: string;
  arn: string;
  account: string;
  region: string;
  creationDate: Date;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  origin: Origin;
  policy: string;
  tags: Tag[];
  /** Set by EnableKey/DisableKey. The KeyState also depends on deletion and imported material. */
  enabled: boolean;
  /** Present while deletion is scheduled; `date` is unset while a primary waits for its replicas (PendingReplicaDeletion). */
  deletion?: { windowDays: number; date?: Date };
  multiRegion?: { type: 'PRIMARY' | 'REPLICA'; primaryRegion: string };
  materials: KeyMaterialRecord[];
  /** Whether material was ever imported into this very key (a replica inherits records, not imports). */
  everImported: boolean;
  onDemandRotations: number;
  /** Automatic rotation (AWS_KMS symmetric keys only). */
  rotation: { enabled: boolean; periodDays: number };
  /** CreateGrant's grants, in effect at once. */
  grants?: GrantRecord[];
  /** An AWS managed key (`alias/aws/<service>`): KeyManager AWS, policy fixed by AWS. */
  awsManaged?: boolean;
}

export interface AliasRecord {
  aliasName: string;
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
}

export interface ImportTokenRecord {
  keyArn: string;
  wrappingAlgorithm: WrappingAlgorithm;
  wrappingKeySpec: WrappingKeySpec;
  privateKey: KeyObject;
  validTo: Date;
  used: boolean;
}

export interface RegionStore {
  keys: Map<string, KmsKey>;
  aliases: Map<string, AliasRecord>;
}

export class EmulatorState {
  private readonly stores = new Map<string, RegionStore>();
  /** Import tokens by SHA-256 (hex) of the token bytes. */
  readonly tokens = new Map<string, ImportTokenRecord>();

  store(account: string, region: string): RegionStore {
    const id = `${account}/${region}`;
    let s = this.stores.get(id);
    if (!s) {
      s = { keys: new Map(), aliases: new Map() };
      this.stores.set(id, s);
    }
    return s;
  }

  *allKeys(): IterableIterator<KmsKey> {
    for (const s of this.stores.values()) yield* s.keys.values();
  }

  removeKey(key: KmsKey): void {
    const s = this.store(key.account, key.region);
    s.keys.delete(key.keyId);
    for (const [name, alias] of s.aliases) if (alias.targetKeyId === key.keyId) s.aliases.delete(name);
  }

  /** The primary and replicas of a multi-Region key (same account and key id), primary first. */
  mrkMembers(key: KmsKey): KmsKey[] {
    if (!key.multiRegion) return [key];
    const members: KmsKey[] = [];
    for (const [id, s] of this.stores) {
      if (!id.startsWith(`${key.account}/`)) continue;
      const k = s.keys.get(key.keyId);
      if (k) members.push(k);
    }
    return members.sort((a, b) => (a.multiRegion?.type === 'PRIMARY' ? -1 : b.multiRegion?.type === 'PRIMARY' ? 1 : a.region.localeCompare(b.region)));
  }

  primaryOf(key: KmsKey): KmsKey | undefined {
    return this.mrkMembers(key).find((k) => k.multiRegion?.type === 'PRIMARY');
  }

  replicasOf(key: KmsKey): KmsKey[] {
    return this.mrkMembers(key).filter((k) => k.multiRegion?.type === 'REPLICA');
  }
}
