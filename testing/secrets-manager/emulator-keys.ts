/**
 * The kit's answer to "which KMS key, and may it be used": the secret's key as the KMS emulator
 * holds it. A customer managed key must exist in the emulator and be enabled; otherwise the call
 * fails as Secrets Manager fails ("AWS Secrets Manager API Reference": EncryptionFailure,
 * DecryptionFailure).
 */
import type { KmsEmulator } from '../emulator';
import { decryptionFailure, encryptionFailure } from './errors';
import { KeyAuthority, KeyUse, MANAGED_KEY_ALIAS, StandaloneKeys } from './keyring';

export class EmulatorKeys implements KeyAuthority {
  // The account's aws/secretsmanager key: KMS creates it on first use.
  private readonly managed = new StandaloneKeys();

  /** `kms` is asked at each use, so that the emulator may start after this server. */
  constructor(private readonly kms: () => KmsEmulator) {}

  authorize(use: KeyUse): string {
    if (use.keyId === undefined || use.keyId === MANAGED_KEY_ALIAS) return this.managed.authorize({ ...use, keyId: undefined });
    const key = this.kms().inspectKey(use.keyId, use.region, use.account);
    if (!key || key.keyState !== 'Enabled') {
      throw use.action === 'kms:Decrypt'
        ? decryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
        : encryptionFailure("Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.");
    }
    return key.keyArn;
  }
}
