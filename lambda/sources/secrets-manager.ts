import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes, SecretsManagerSourceProperties } from '../../lib/private/contract';
import { IMPORTABLE_KEY_SPECS } from '../../lib/private/import-rules';
import { secretRegion, secretsClient } from '../aws';
import { ImportError } from '../errors';
import { checkMaterial, decodeText } from '../material';
import { wrapKeyMaterial } from '../wrap';
import { PreparedSource, SourceContext } from './source';

/**
 * The Secrets Manager source: the material is read (in parallel with GetParametersForImport),
 * checked against the key spec, wrapped in the handler with node's crypto, then zeroed.
 */
export async function prepareSecretsManagerSource(source: SecretsManagerSourceProperties, ctx: SourceContext): Promise<PreparedSource> {
  const material = await readSecretMaterial(source, ctx.keySpec);
  return {
    wrap(publicKeyDer, wrappingAlgorithm) {
      checkMaterial(ctx.keySpec, material, ctx.partition, `the material in secret ${source.SecretArn}`);
      return wrapKeyMaterial(material, publicKeyDer, wrappingAlgorithm);
    },
    close() {
      material.fill(0);
    },
  };
}

/**
 * Reads key material from a Secrets Manager secret and decodes it to bytes. The caller zeroes
 * the returned buffer. (A SecretString is a JS string and cannot be zeroed; see SECURITY.md.)
 */
export async function readSecretMaterial(source: SecretsManagerSourceProperties, keySpec: string): Promise<Buffer> {
  const region = secretRegion(source.SecretArn);
  const name = `secret ${source.SecretArn}${source.VersionId ? ` (version ${source.VersionId})` : ''}`;
  let response;
  try {
    response = await secretsClient(region).send(new GetSecretValueCommand({
      SecretId: source.SecretArn,
      VersionId: source.VersionId,
      VersionStage: source.VersionStage,
    }));
  } catch (e) {
    throw secretError(e, name);
  }
  const what = `the value of ${name}${source.JsonField ? ` field '${source.JsonField}'` : ''}`;
  // No encoding given: the secret's own type decides (docs/bad-input.md, "Material encoding").
  if (response.SecretBinary) {
    if ((source.Encoding ?? 'BINARY') !== 'BINARY' || source.JsonField) {
      response.SecretBinary.fill(0);
      throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${name} holds a SecretBinary, but ${source.JsonField ? 'jsonField is set' : `the encoding is ${source.Encoding}`}; a SecretBinary is read as raw bytes (DER for RSA/ECC/SM2 keys): leave the encoding unset or use KeyMaterialEncoding.BINARY${source.JsonField ? ', without jsonField' : ''}`);
    }
    const bytes = Buffer.from(response.SecretBinary);
    response.SecretBinary.fill(0);
    return bytes;
  }
  if (source.Encoding === 'BINARY' || response.SecretString === undefined) {
    throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${name} holds a SecretString, but the encoding is BINARY; store the material as SecretBinary, or leave the encoding unset (base64 for symmetric/HMAC keys, PEM for RSA/ECC/SM2) or choose KeyMaterialEncoding.BASE64, HEX or PEM`);
  }
  const text = source.JsonField ? jsonField(response.SecretString, source.JsonField, name) : response.SecretString;
  if (text.trim().length === 0) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${what} is empty`);
  }
  return decodeText(text, source.Encoding ?? defaultTextEncoding(keySpec), what);
}

/** A SecretString without an explicit encoding: base64 for symmetric and HMAC material, PEM otherwise. */
function defaultTextEncoding(keySpec: string): string {
  const kind = IMPORTABLE_KEY_SPECS[keySpec]?.kind;
  return kind === 'SYMMETRIC' || kind === 'HMAC' ? 'BASE64' : 'PEM';
}

function jsonField(secretString: string, field: string, name: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} is not a JSON object, but jsonField '${field}' was given; store {"${field}": "..."} or drop jsonField`);
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
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} field '${field}' is a ${typeof value}, not a string`);
  }
  return value;
}

function secretError(e: unknown, name: string): Error {
  const err = e as { name?: string; message?: string };
  switch (err.name) {
    case 'ResourceNotFoundException':
      return new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} was not found; check that it exists in that region and account (and the version, if pinned)`);
    case 'AccessDeniedException':
      return new ImportError(ErrorCodes.ACCESS_DENIED, `the import handler may not read ${name}: ${err.message || 'access denied'}; check the secret's resource policy and, for a customer managed key, its key policy`);
    case 'DecryptionFailure':
      return new ImportError(ErrorCodes.ACCESS_DENIED, `Secrets Manager could not decrypt ${name} with its KMS key; allow the import handler kms:Decrypt on that key`);
    case 'InvalidRequestException':
      // AWS's message says why (marked for deletion; another account under the default key, "Access
      // AWS Secrets Manager secrets from a different account"); only without one is deletion guessed.
      return new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} cannot be read: ${err.message || 'invalid request (is it scheduled for deletion?)'}`);
    default:
      return new ImportError(ErrorCodes.AWS_ERROR, `${err.name ?? 'Error'} from Secrets Manager reading ${name}${err.message ? `: ${err.message}` : ''}`);
  }
}
