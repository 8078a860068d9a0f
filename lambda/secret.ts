import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes } from '../lib/private/contract';
import { secretRegion, secretsClient } from './aws';
import { ImportError } from './errors';

/**
 * The handler's one way to read a Secrets Manager secret (key material, an HSM PIN, offline
 * import parameters and wrapped material) and to write one (the offline flow's parameters), and
 * its one mapping of Secrets Manager's errors to the stable error codes. Messages name the
 * secret by ARN and version; never its value.
 */

/** Which secret to read, and what messages call it. */
export interface SecretRequest {
  readonly arn: string;
  /** Read this version (pinned in the stack: a change is what triggers a re-import). */
  readonly versionId?: string;
  readonly versionStage?: string;
  /** What the secret is for, when it is not key material: e.g. 'the HSM PIN secret'. */
  readonly role?: string;
}

/** A secret's value: `binary` or `text`, never both. */
export interface SecretValue {
  /** How messages name the secret: its role, ARN and pinned version. */
  readonly name: string;
  /**
   * A SecretBinary, copied out of the SDK's response, whose buffer is zeroed; the caller zeroes
   * this one. (A SecretString is a JS string and cannot be zeroed; see SECURITY.md.)
   */
  readonly binary?: Buffer;
  readonly text?: string;
}

/** What messages call a secret: 'secret <arn> (version <id>)', or its role and ARN. */
export function secretName(request: SecretRequest): string {
  return `${request.role ?? 'secret'} ${request.arn}${request.versionId ? ` (version ${request.versionId})` : ''}`;
}

/** GetSecretValue in the secret's own region; failures become coded ImportErrors. */
export async function readSecret(request: SecretRequest): Promise<SecretValue> {
  const region = secretRegion(request.arn, request.role ? ` (${request.role})` : '');
  const name = secretName(request);
  let response;
  try {
    response = await secretsClient(region).send(new GetSecretValueCommand({
      SecretId: request.arn,
      VersionId: request.versionId,
      VersionStage: request.versionStage,
    }));
  } catch (e) {
    throw secretError(e, name, 'GetSecretValue');
  }
  if (response.SecretBinary) {
    const binary = Buffer.from(response.SecretBinary);
    response.SecretBinary.fill(0);
    return { name, binary };
  }
  if (response.SecretString === undefined) throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} has no value`);
  return { name, text: response.SecretString };
}

/** PutSecretValue (a new AWSCURRENT version) in the secret's own region; failures become coded ImportErrors. */
export async function writeSecret(request: SecretRequest, text: string): Promise<void> {
  const region = secretRegion(request.arn, request.role ? ` (${request.role})` : '');
  try {
    await secretsClient(region).send(new PutSecretValueCommand({ SecretId: request.arn, SecretString: text }));
  } catch (e) {
    throw secretError(e, secretName(request), 'PutSecretValue');
  }
}

/**
 * The text of a secret's value (a SecretBinary as UTF-8), or of one top-level field of its JSON;
 * `option` is the construct option that named the field. A value of white space only is refused.
 */
export function secretText(value: SecretValue, field?: { readonly name: string; readonly option: string }): string {
  const whole = value.text ?? value.binary!.toString('utf8');
  const text = field ? jsonField(whole, field.name, field.option, value.name) : whole;
  if (text.trim().length === 0) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `the value of ${value.name}${field ? ` field '${field.name}'` : ''} is empty`);
  }
  return text;
}

function jsonField(text: string, field: string, option: string, name: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} is not a JSON object, but ${option} '${field}' was given; store {"${field}": "..."} or drop ${option}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} is JSON but not an object, so it has no field '${field}'`);
  }
  const value = (parsed as Record<string, unknown>)[field];
  if (value === undefined) {
    // Only the count: field names are the secret's text (a value pasted into the key column).
    const count = Object.keys(parsed as object).length;
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} has no field '${field}' (it has ${count} field${count === 1 ? '' : 's'}, none named so; field names are not shown because they are part of the secret's value)`);
  }
  if (typeof value !== 'string') {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} field '${field}' is a ${value === null ? 'null' : typeof value}, not a string`);
  }
  return value;
}

/**
 * Secrets Manager's errors as coded ImportErrors: what happened to which secret and what to do.
 * AWS's messages name principals, actions and ARNs, never a secret's value, so they are kept.
 */
export function secretError(e: unknown, name: string, operation: 'GetSecretValue' | 'PutSecretValue'): ImportError {
  if (e instanceof ImportError) return e;
  const err = e as { name?: string; message?: string };
  const reading = operation === 'GetSecretValue';
  const verb = reading ? 'read' : 'write';
  switch (err.name) {
    case 'ResourceNotFoundException':
      return new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} was not found; check that it exists in that region and account (and the version, if pinned)`);
    case 'AccessDeniedException':
      return new ImportError(ErrorCodes.ACCESS_DENIED, `the import handler may not ${verb} ${name}: ${err.message || 'access denied'}; check the secret's resource policy and, for a customer managed key, its key policy`);
    case 'DecryptionFailure':
    case 'EncryptionFailure':
      return new ImportError(ErrorCodes.ACCESS_DENIED, `Secrets Manager could not ${reading ? 'decrypt' : 'encrypt'} ${name} with its KMS key; allow the import handler ${reading ? 'kms:Decrypt' : 'kms:GenerateDataKey'} on that key`);
    case 'InvalidRequestException':
      // AWS's message says why (marked for deletion; another account under the default key, "Access
      // AWS Secrets Manager secrets from a different account"); only without one is deletion guessed.
      return new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} cannot be ${reading ? 'read' : 'written'}: ${err.message || 'invalid request (is it scheduled for deletion?)'}`);
    default:
      return new ImportError(ErrorCodes.AWS_ERROR, `${err.name ?? 'Error'} from Secrets Manager ${reading ? 'reading' : 'writing'} ${name}${err.message ? `: ${err.message}` : ''}`);
  }
}
