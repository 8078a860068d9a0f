/**
 * How the local Secrets Manager encrypts secret versions under KMS keys. AWS Secrets Manager
 * encrypts each version with a data key from KMS under the secret's key (the account's AWS managed
 * key `aws/secretsmanager` unless the secret names a customer managed key), with the secret's ARN
 * and version id as encryption context, and decrypts it on every read ("Secret encryption and
 * decryption in AWS Secrets Manager").
 *
 * Here each KMS key ARN gets its own AES-256-GCM key, and each version is sealed with the key ARN,
 * secret ARN and version id as additional data: a version decrypts only under the key it was
 * written with. Whether the key may be used (it exists, is enabled, and the caller may use it via
 * Secrets Manager) is asked of a `KeyAuthority`; the kit's LocalCloud answers from the KMS emulator.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'crypto';
import { partitionOf } from '../emulator/arn';
import type { Principal } from '../iam';

/** Who made a request: an IAM principal (testing/iam). */
export type Caller = Principal;

/** One use of a secret's KMS key by Secrets Manager, on behalf of a caller. */
export interface KeyUse {
  readonly caller: Caller;
  /** `kms:Encrypt`-like (writing a version) or `kms:Decrypt` (reading one). */
  readonly action: 'kms:GenerateDataKey' | 'kms:Decrypt';
  /** The key as the secret names it (id, ARN, alias name or alias ARN), or undefined for aws/secretsmanager. */
  readonly keyId?: string;
  readonly secretArn: string;
  readonly versionId: string;
  /** The secret's Region and account. */
  readonly region: string;
  readonly account: string;
}

/** Decides which KMS key a use means and whether it may happen. */
export interface KeyAuthority {
  /**
   * The key ARN `use.keyId` resolves to, seen from the secret's account and Region (undefined keyId:
   * the account's `aws/secretsmanager` key). Throws a SecretsManagerError when the key cannot be
   * used: it does not exist, is not enabled, or the caller may not use it through Secrets Manager.
   */
  authorize(use: KeyUse): Promise<string> | string;
}

/** The AWS managed key's alias: Secrets Manager's default key. */
export const MANAGED_KEY_ALIAS = 'alias/aws/secretsmanager';

/** Seals and opens version values; one AES key per KMS key ARN, made on first use. */
export class Keyring {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly authority: KeyAuthority = new StandaloneKeys()) {}

  async seal(use: KeyUse, plaintext: Buffer): Promise<{ keyArn: string; blob: Buffer }> {
    const keyArn = await this.authority.authorize(use);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(keyArn), iv);
    cipher.setAAD(aad(keyArn, use));
    const blob = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { keyArn, blob };
  }

  /** Opens a version sealed under `keyArn`; the caller zeroes the result. */
  async open(use: KeyUse, keyArn: string, blob: Buffer): Promise<Buffer> {
    await this.authority.authorize(use);
    const decipher = createDecipheriv('aes-256-gcm', this.keyFor(keyArn), blob.subarray(0, 12));
    decipher.setAAD(aad(keyArn, use));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    return Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
  }

  private keyFor(keyArn: string): Buffer {
    let key = this.keys.get(keyArn);
    if (!key) this.keys.set(keyArn, (key = randomBytes(32)));
    return key;
  }
}

function aad(keyArn: string, use: KeyUse): Buffer {
  return Buffer.from(JSON.stringify([keyArn, use.secretArn, use.versionId]));
}

/**
 * Keys for a Secrets Manager without a KMS beside it: every key id is taken as it is named (an
 * alias or id becomes an ARN in the secret's account and Region) and each account and Region has
 * one `aws/secretsmanager` key. Nothing is refused.
 */
export class StandaloneKeys implements KeyAuthority {
  private readonly named = new Map<string, string>();

  authorize(use: KeyUse): string {
    const keyId = use.keyId ?? MANAGED_KEY_ALIAS;
    if (keyId.startsWith('arn:') && keyId.includes(':key/')) return keyId;
    const scope = keyId.startsWith('arn:') ? keyId : `arn:${partitionOf(use.region)}:kms:${use.region}:${use.account}:${keyId.startsWith('alias/') ? keyId : `key/${keyId}`}`;
    if (!scope.includes(':alias/')) return scope;
    let arn = this.named.get(scope);
    if (!arn) this.named.set(scope, (arn = scope.replace(/alias\/.*$/, `key/${randomUUID()}`)));
    return arn;
  }
}
