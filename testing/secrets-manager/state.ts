/** The local Secrets Manager's data: secrets per account and Region, each with its versions. */

export interface SecretVersion {
  readonly versionId: string;
  /** The value, sealed under `keyArn` (see keyring.ts); never kept in the clear. */
  readonly blob: Buffer;
  readonly binary: boolean;
  readonly keyArn: string;
  readonly createdDate: Date;
  /** Staging labels; a version without any is deprecated. */
  stages: string[];
  lastAccessedDate?: Date;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly createdDate: Date;
  description?: string;
  /** The KMS key as given at CreateSecret (undefined: aws/secretsmanager). */
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  /** Set while deletion is scheduled; the secret disappears at this time. */
  deletionDate?: Date;
  /** The resource policy, as a JSON string. */
  policy?: string;
  /** Versions in creation order. */
  readonly versions: Map<string, SecretVersion>;
}

export class SecretsState {
  private readonly stores = new Map<string, Map<string, SecretRecord>>();

  /** The secrets of one account in one Region, by name. */
  store(account: string, region: string): Map<string, SecretRecord> {
    const key = `${account}/${region}`;
    let store = this.stores.get(key);
    if (!store) this.stores.set(key, (store = new Map()));
    return store;
  }

  /** Removes secrets whose recovery window has passed. */
  sweep(now: Date): void {
    for (const store of this.stores.values()) {
      for (const [name, secret] of store) if (secret.deletionDate && secret.deletionDate <= now) store.delete(name);
    }
  }
}
