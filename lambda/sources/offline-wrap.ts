import { createPublicKey } from 'crypto';
import { GetParametersForImportCommand, KMSClient } from '@aws-sdk/client-kms';
import { ErrorCodes, ImportResourceProperties, MaterialEncodings, OfflineWrapSourceProperties, PublishedImportParameters } from '../../lib/private/contract';
import { secretRegion } from '../aws';
import { ImportError } from '../errors';
import { decodeText } from '../material';
import { readSecret, SecretValue, writeSecret } from '../secret';
import type { ImportFailures, PreparedSource, SourceContext } from './source';

/**
 * The offline (two-phase) flow, for an HSM the handler cannot reach. Phase 1 publishes the KMS
 * wrapping public key and import token (publishParameters; nothing is imported); the user wraps
 * in the HSM; phase 2 is a material source like the others, whose material was wrapped for the
 * published parameters (KMS Developer Guide, "Importing key material":
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html).
 */

const PHASE_1 = 'deploy phase 1 again (without wrappedMaterial, with a new parametersGeneration) to publish new parameters, wrap again with them, then deploy phase 2';

/** Whether the offline source is in phase 1: it publishes parameters and imports nothing. */
export function publishesParameters(source: OfflineWrapSourceProperties): boolean {
  return !source.WrappedSecretArn;
}

/** Phase 1: writes fresh import parameters to the parameters secret; returns until when they are valid. */
export async function publishParameters(kms: KMSClient, props: ImportResourceProperties, source: OfflineWrapSourceProperties): Promise<Date> {
  // A parameters secret that is not one is refused before a GetParametersForImport is spent.
  secretRegion(source.ParametersSecretArn);
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
  await writeSecret({ arn: source.ParametersSecretArn }, JSON.stringify(published));
  return parameters.ParametersValidTo!;
}

/**
 * Phase 2: reads the published parameters and the wrapped material, and checks that the
 * parameters are for this key, its wrapping algorithm and key spec, and still valid. KMS's
 * refusal of the blob is explained by OFFLINE_WRAP_FAILURES.
 */
export async function prepareOfflineWrapSource(source: OfflineWrapSourceProperties, ctx: SourceContext): Promise<PreparedSource> {
  const arn = source.ParametersSecretArn;
  const [published, wrapped] = await Promise.all([
    readSecret({ arn }).then(parsePublished),
    readSecret({ arn: source.WrappedSecretArn!, versionId: source.WrappedVersionId }).then(wrappedBytes),
  ]);
  if (published.keyArn !== ctx.keyArn) {
    // The secret's fields are not echoed: anyone who can write the secret controls that text.
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `secret ${arn} holds import parameters for another key, not for ${ctx.keyArn}; ${PHASE_1}`);
  }
  if (published.wrappingAlgorithm !== ctx.wrappingAlgorithm || published.wrappingKeySpec !== ctx.wrappingKeySpec) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `the parameters published in secret ${arn} are for another wrapping algorithm or wrapping key spec than the key is now configured for (${ctx.wrappingAlgorithm}/${ctx.wrappingKeySpec}); ${PHASE_1}`);
  }
  const expiry = new Date(published.parametersValidTo);
  if (Number.isNaN(expiry.getTime())) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `secret ${arn} has no valid parametersValidTo; ${PHASE_1}`);
  }
  if (!(expiry.getTime() > ctx.now.getTime())) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `the import token published in secret ${arn} expired at ${expiry.toISOString()} (KMS tokens are valid for 24 hours); ${PHASE_1}`);
  }
  return {
    parameters: { publicKey: Buffer.from(published.publicKey, 'base64'), importToken: Buffer.from(published.importToken, 'base64') },
    // Wrapped outside AWS for exactly these parameters. Nothing to zero: it is ciphertext, and
    // the importer sends this very buffer after close.
    wrap: () => wrapped,
    close: () => undefined,
  };
}

/** A short name of the source for messages. */
export function describeOfflineWrapSource(source: OfflineWrapSourceProperties): string {
  return `the wrapped material in secret ${source.WrappedSecretArn}`;
}

/** KMS's refusals of a phase-2 import, and what to do; no retry with fresh parameters helps them. */
export const OFFLINE_WRAP_FAILURES: ImportFailures<OfflineWrapSourceProperties> = {
  ExpiredImportTokenException: (source) =>
    new ImportError(ErrorCodes.IMPORT_TOKEN, `KMS says the import token published in secret ${source.ParametersSecretArn} has expired; ${PHASE_1}`),
  InvalidImportTokenException: (source) =>
    new ImportError(ErrorCodes.IMPORT_TOKEN, `KMS refused the import token published in secret ${source.ParametersSecretArn}: it was already used (every import needs a new wrap) or belongs to another key; ${PHASE_1}`),
  InvalidCiphertextException: (source, props) =>
    new ImportError(ErrorCodes.MATERIAL_FORMAT, `KMS could not unwrap the material in secret ${source.WrappedSecretArn} with the published wrapping key: wrap it with ${props.WrappingAlgorithm} under the public key in secret ${source.ParametersSecretArn} (see docs/hsm.md), and store the EncryptedKeyMaterial bytes (base64 in a SecretString, or a SecretBinary)`),
};

function parsePublished(value: SecretValue): PublishedImportParameters {
  value.binary?.fill(0);
  let parsed: Partial<PublishedImportParameters> | undefined;
  try {
    parsed = JSON.parse(value.text ?? '');
  } catch {
    parsed = undefined;
  }
  if (!parsed?.importToken || !parsed.keyArn || !parsed.parametersValidTo || !parsed.publicKey) {
    throw new ImportError(ErrorCodes.IMPORT_TOKEN, `${value.name} holds no import parameters; deploy phase 1 (without wrappedMaterial) first`);
  }
  return parsed as PublishedImportParameters;
}

/** The EncryptedKeyMaterial: a SecretBinary as it is, or base64 text. */
function wrappedBytes(value: SecretValue): Buffer {
  return value.binary ?? decodeText(value.text!, MaterialEncodings.BASE64, `the wrapped material in ${value.name}`);
}
