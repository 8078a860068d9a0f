import { createPublicKey } from 'crypto';
import { GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes, ImportResourceProperties, OfflineWrapSourceProperties, PublishedImportParameters } from '../../lib/private/contract';
import { defaultImportType } from '../../lib/private/import-rules';
import { secretRegion, secretsClient } from '../aws';
import { ImportError } from '../errors';

/** What one phase of the offline flow did. */
export interface OfflineOutcome {
  readonly keyMaterialId?: string;
  readonly parametersValidTo?: Date;
}

const PHASE_1 = 'deploy phase 1 again (without wrappedMaterial, with a new parametersGeneration) to publish new parameters, wrap again with them, then deploy phase 2';

/**
 * The offline (two-phase) flow for an HSM the handler cannot reach. Phase 1 publishes the KMS
 * wrapping public key and import token; the user wraps in the HSM; phase 2 imports the wrapped
 * blob with the published token. KMS errors other than the token and unwrap ones are left to the
 * caller to explain.
 */
export async function importOffline(kms: KMSClient, props: ImportResourceProperties, source: OfflineWrapSourceProperties, validTo: Date | undefined, now: Date): Promise<OfflineOutcome> {
  return source.WrappedSecretArn
    ? importWrapped(kms, props, source, source.WrappedSecretArn, validTo, now)
    : publishParameters(kms, props, source);
}

async function publishParameters(kms: KMSClient, props: ImportResourceProperties, source: OfflineWrapSourceProperties): Promise<OfflineOutcome> {
  const region = secretRegion(source.ParametersSecretArn);
  const parameters = await kms.send(new GetParametersForImportCommand({
    KeyId: props.KeyArn, WrappingAlgorithm: props.WrappingAlgorithm as any, WrappingKeySpec: props.WrappingKeySpec as any,
  }));
  const publicKey = Buffer.from(parameters.PublicKey!);
  const published: PublishedImportParameters = {
    keyArn: props.KeyArn,
    wrappingAlgorithm: props.WrappingAlgorithm,
    wrappingKeySpec: props.WrappingKeySpec,
    publicKey: publicKey.toString('base64'),
    publicKeyPem: createPublicKey({ key: publicKey, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }) as string,
    importToken: Buffer.from(parameters.ImportToken!).toString('base64'),
    parametersValidTo: parameters.ParametersValidTo!.toISOString(),
  };
  try {
    await secretsClient(region).send(new PutSecretValueCommand({ SecretId: source.ParametersSecretArn, SecretString: JSON.stringify(published) }));
  } catch (e) {
    throw new ImportError(ErrorCodes.MATERIAL_SOURCE, `could not publish the import parameters to secret ${source.ParametersSecretArn}: ${(e as Error).name}: ${(e as Error).message}`);
  }
  return { parametersValidTo: parameters.ParametersValidTo };
}

async function importWrapped(kms: KMSClient, props: ImportResourceProperties, source: OfflineWrapSourceProperties, wrappedArn: string, validTo: Date | undefined, now: Date): Promise<OfflineOutcome> {
  const [parameters, wrapped] = await Promise.all([readParameters(source.ParametersSecretArn), readWrapped(wrappedArn, source.WrappedVersionId)]);
  if (parameters.keyArn !== props.KeyArn) {
    // The secret's fields are not echoed: anyone who can write the secret controls that text.
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `secret ${source.ParametersSecretArn} holds import parameters for another key, not for ${props.KeyArn}; ${PHASE_1}`);
  }
  if (parameters.wrappingAlgorithm !== props.WrappingAlgorithm || parameters.wrappingKeySpec !== props.WrappingKeySpec) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `the parameters published in secret ${source.ParametersSecretArn} are for another wrapping algorithm or wrapping key spec than the key is now configured for (${props.WrappingAlgorithm}/${props.WrappingKeySpec}); ${PHASE_1}`);
  }
  const expiry = new Date(parameters.parametersValidTo);
  if (Number.isNaN(expiry.getTime())) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `secret ${source.ParametersSecretArn} has no valid parametersValidTo; ${PHASE_1}`);
  }
  if (!(expiry.getTime() > now.getTime())) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `the import token published in secret ${source.ParametersSecretArn} expired at ${expiry.toISOString()} (KMS tokens are valid for 24 hours); ${PHASE_1}`);
  }
  try {
    const response = await kms.send(new ImportKeyMaterialCommand({
      KeyId: props.KeyArn,
      ImportToken: Buffer.from(parameters.importToken, 'base64'),
      EncryptedKeyMaterial: wrapped,
      ExpirationModel: props.Expiration.Model as any,
      ValidTo: validTo,
      ImportType: defaultImportType(props),
    }));
    return { keyMaterialId: response.KeyMaterialId };
  } catch (e) {
    switch ((e as Error).name) {
      case 'ExpiredImportTokenException':
        throw new ImportError(ErrorCodes.IMPORT_TOKEN, `KMS says the import token published in secret ${source.ParametersSecretArn} has expired; ${PHASE_1}`);
      case 'InvalidImportTokenException':
        throw new ImportError(ErrorCodes.IMPORT_TOKEN, `KMS refused the import token published in secret ${source.ParametersSecretArn}: it was already used (every import needs a new wrap) or belongs to another key; ${PHASE_1}`);
      case 'InvalidCiphertextException':
        throw new ImportError(ErrorCodes.MATERIAL_FORMAT, `KMS could not unwrap the material in secret ${wrappedArn} with the published wrapping key: wrap it with ${props.WrappingAlgorithm} under the public key in secret ${source.ParametersSecretArn} (see docs/hsm.md), and store the EncryptedKeyMaterial bytes (base64 in a SecretString, or a SecretBinary)`);
      default:
        throw e;
    }
  }
}

async function readParameters(arn: string): Promise<PublishedImportParameters> {
  const value = await secretText(arn);
  let parsed: Partial<PublishedImportParameters> | undefined;
  try {
    parsed = JSON.parse(value ?? '');
  } catch {
    parsed = undefined;
  }
  if (!parsed?.importToken || !parsed.keyArn || !parsed.parametersValidTo) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `secret ${arn} holds no import parameters; deploy phase 1 (without wrappedMaterial) first`);
  }
  return parsed as PublishedImportParameters;
}

async function readWrapped(arn: string, versionId?: string): Promise<Buffer> {
  const response = await read(arn, versionId);
  if (response.SecretBinary) return Buffer.from(response.SecretBinary);
  const text = (response.SecretString ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `secret ${arn} must hold the wrapped key material as base64 text or as a SecretBinary (${text.length} characters that are not base64)`);
  }
  return Buffer.from(text, 'base64');
}

async function secretText(arn: string): Promise<string | undefined> {
  return (await read(arn)).SecretString;
}

async function read(arn: string, versionId?: string) {
  try {
    return await secretsClient(secretRegion(arn)).send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }));
  } catch (e) {
    const err = e as Error;
    throw new ImportError(err.name === 'AccessDeniedException' ? ErrorCodes.ACCESS_DENIED : ErrorCodes.MATERIAL_SOURCE, `cannot read secret ${arn}: ${err.name}: ${err.message}`);
  }
}
