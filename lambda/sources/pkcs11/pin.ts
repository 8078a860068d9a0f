import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes, Pkcs11SourceProperties } from '../../../lib/private/contract';
import { secretRegion, secretsClient } from '../../aws';
import { ImportError } from '../../errors';

/**
 * Reads the HSM user PIN from Secrets Manager. The PIN is never logged and never put in an error;
 * it lives in a JS string (pkcs11js's C_Login takes one), which cannot be zeroed.
 * For CloudHSM the "PIN" is `<crypto user name>:<password>`.
 */
export async function readPin(source: Pkcs11SourceProperties): Promise<string> {
  const region = secretRegion(source.PinSecretArn, ' (the HSM PIN secret)');
  const name = `the HSM PIN secret ${source.PinSecretArn}`;
  let response;
  try {
    response = await secretsClient(region).send(new GetSecretValueCommand({ SecretId: source.PinSecretArn }));
  } catch (e) {
    const err = e as { name?: string; message?: string };
    switch (err.name) {
      case 'ResourceNotFoundException':
        throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} was not found; check that it exists in that region and account`);
      case 'AccessDeniedException':
        throw new ImportError(ErrorCodes.ACCESS_DENIED, `the import handler may not read ${name}: ${err.message || 'access denied'}`);
      case 'DecryptionFailure':
        throw new ImportError(ErrorCodes.ACCESS_DENIED, `Secrets Manager could not decrypt ${name} with its KMS key; allow the import handler kms:Decrypt on that key`);
      default:
        throw e;
    }
  }
  const text = response.SecretString ?? (response.SecretBinary ? Buffer.from(response.SecretBinary).toString('utf8') : undefined);
  if (text === undefined) throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} has no value`);
  // A PIN stored with `aws secretsmanager ... --secret-string file://pin.txt` usually ends in a newline.
  const pin = (source.PinJsonField ? jsonField(text, source.PinJsonField, name) : text).replace(/\r?\n$/, '');
  if (pin.length === 0) throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} is empty`);
  return pin;
}

function jsonField(text: string, field: string, name: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} is not a JSON object, but pinJsonField '${field}' was given`);
  }
  const value = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string') {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `${name} has no string field '${field}'`);
  }
  return value;
}
