/**
 * The kit's answer to "which KMS key, and may it be used": asked of the KMS emulator as Secrets
 * Manager asks KMS, on behalf of the caller (`kms:ViaService` secretsmanager.REGION.amazonaws.com,
 * the secret's ARN and version id as encryption context: "Secret encryption and decryption in AWS
 * Secrets Manager"). The default key is the account's AWS managed key aws/secretsmanager, created
 * on first use. Failures are answered as Secrets Manager answers them ("AWS Secrets Manager API
 * Reference": EncryptionFailure, DecryptionFailure; AccessDeniedException "Access to KMS is not
 * allowed", AWS re:Post "secrets-manager-cross-account-key").
 */
import type { KmsEmulator } from '../emulator';
import { viaServiceName } from '../emulator/arn';
import { accessDenied, decryptionFailure, encryptionFailure } from './errors';
import { KeyAuthority, KeyUse, MANAGED_KEY_ALIAS } from './keyring';

export class EmulatorKeys implements KeyAuthority {
  /** `kms` is asked at each use, so that the emulator may start after this server. */
  constructor(private readonly kms: () => KmsEmulator) {}

  authorize(use: KeyUse): string {
    const kms = this.kms();
    const keyId = use.keyId === undefined || use.keyId === MANAGED_KEY_ALIAS ? kms.secretsManagerManagedKey(use.account, use.region) : use.keyId;
    const failure = () => (use.action === 'kms:Decrypt'
      ? decryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
      : encryptionFailure("Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state."));
    let key;
    try {
      key = kms.authorizeKeyUseViaService({
        principal: use.caller, keyId, action: use.action, region: use.region, keyAccount: use.account,
        service: viaServiceName('secretsmanager', use.region),
        encryptionContext: { SecretARN: use.secretArn, SecretVersionId: use.versionId },
      });
    } catch (e) {
      // AWS says only "Access to KMS is not allowed"; KMS's own message (principal, action, key,
      // which policy) follows it here so that a test failure says what to fix.
      if ((e as Error).name === 'AccessDeniedException') throw accessDenied(`Access to KMS is not allowed. (KMS: ${(e as Error).message.replace(/^AccessDeniedException: /, '')})`);
      throw failure();
    }
    if (key.keyState !== 'Enabled') throw failure();
    return key.keyArn;
  }
}
