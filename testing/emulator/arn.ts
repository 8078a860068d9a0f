/** ARNs of KMS keys and aliases, per partition. */

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The `kms:ViaService` name of a service in a Region: `secretsmanager.eu-west-1.amazonaws.com` (`.amazonaws.com.cn` in China). */
export function viaServiceName(service: string, region: string): string {
  return `${service}.${region}.${partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

export function keyArn(account: string, region: string, keyId: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${account}:key/${keyId}`;
}

export function aliasArn(account: string, region: string, aliasName: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${account}:${aliasName}`;
}

export interface KmsArn {
  region: string;
  account: string;
  resourceType: 'key' | 'alias';
  /** Key id for a key ARN, `alias/<name>` for an alias ARN. */
  resource: string;
}

/** Parses `arn:<partition>:kms:<region>:<account>:key/<id>` or `...:alias/<name>`. */
export function parseKmsArn(value: string): KmsArn | undefined {
  const m = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kms:([a-z0-9-]+):(\d{12}):(key\/[^/]+|alias\/.+)$/.exec(value);
  if (!m) return undefined;
  const resourceType = m[3].startsWith('key/') ? 'key' : 'alias';
  return { region: m[1], account: m[2], resourceType, resource: resourceType === 'key' ? m[3].slice(4) : m[3] };
}

/** A KMS key id: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export function isWellFormedKeyId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value) || /^mrk-[0-9a-f]{32}$/.test(value);
}
