import { ErrorCodes, ImportResourceProperties, MaterialSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../errors';
import { describeOfflineWrapSource, OFFLINE_WRAP_FAILURES, prepareOfflineWrapSource } from './offline-wrap';
import { describePkcs11Source, preparePkcs11Source } from './pkcs11';
import { prepareSecretsManagerSource } from './secrets-manager';

/** What every material source knows about the import it serves. */
export interface SourceContext {
  /** The key the material is imported into. */
  readonly keyArn: string;
  readonly keySpec: string;
  readonly partition: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  /** The time of the import. */
  readonly now: Date;
}

/** GetParametersForImport's answer, as ImportKeyMaterial uses it. */
export interface ImportParameters {
  /** The wrapping public key (DER SubjectPublicKeyInfo). */
  readonly publicKey: Uint8Array;
  readonly importToken: Uint8Array;
}

/**
 * A material source, ready to wrap. `prepare` runs in parallel with GetParametersForImport (it
 * reads a secret, or opens an HSM session); `wrap` produces the EncryptedKeyMaterial for the
 * wrapping public key; `close` always runs, and zeroes or releases what it holds.
 */
export interface PreparedSource {
  /**
   * The parameters the material was wrapped for outside AWS (offline-wrapped material). Absent:
   * the importer fetches fresh ones, and `wrap` wraps for them.
   */
  readonly parameters?: ImportParameters;
  wrap(publicKeyDer: Uint8Array, wrappingAlgorithm: string): Buffer | Promise<Buffer>;
  close(): void | Promise<void>;
}

/** A source's own explanations of ImportKeyMaterial's errors, by the error's name. */
export type ImportFailures<S> = Readonly<Record<string, (source: S, props: ImportResourceProperties) => ImportError>>;

export async function prepareSource(source: MaterialSourceProperties, ctx: SourceContext): Promise<PreparedSource> {
  switch (source.Type) {
    case 'SecretsManager':
      return prepareSecretsManagerSource(source, ctx);
    case 'Pkcs11': // the HSM wraps the key itself
      return preparePkcs11Source(source, ctx);
    case 'OfflineWrap':
      return prepareOfflineWrapSource(source, ctx);
    default:
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `material source type '${(source as { Type?: string }).Type}' is not known`);
  }
}

/**
 * Whether the source brings the parameters its material was wrapped for (offline-wrapped
 * material). Then no fresh parameters are fetched, and a refused token is not retried with new
 * ones: the material was wrapped for that one token.
 */
export function bringsParameters(source: MaterialSourceProperties): boolean {
  return source.Type === 'OfflineWrap';
}

/** The material source's own explanation of an ImportKeyMaterial error, where it has one. */
export function explainImportFailure(props: ImportResourceProperties, errorName: string | undefined): ImportError | undefined {
  const source = props.Material;
  if (source.Type !== 'OfflineWrap' || !errorName || !Object.hasOwn(OFFLINE_WRAP_FAILURES, errorName)) return undefined;
  return OFFLINE_WRAP_FAILURES[errorName](source, props);
}

/** A short name of the source for messages. */
export function describeSource(source: MaterialSourceProperties): string {
  switch (source.Type) {
    case 'SecretsManager':
      return `secret ${source.SecretArn}`;
    case 'Pkcs11':
      return describePkcs11Source(source);
    case 'OfflineWrap':
      return describeOfflineWrapSource(source);
    default:
      return 'the material source';
  }
}

/** What to do when KMS refuses the material a source gave (IncorrectKeyMaterialException). */
export function mismatchRemedy(source: MaterialSourceProperties): string {
  switch (source.Type) {
    case 'Pkcs11':
      // The handler never sees HSM-wrapped material, so KMS is the first to judge its format.
      return 'Select the HSM key that was first imported into this KMS key (keyLabel / keyId), or create a new ExternalKey for new material. If this is the first import, the HSM produced material KMS finds invalid for the key spec (SoftHSM 2.6 pads private keys before wrapping: see docs/hsm.md)';
    default:
      return 'Point the secret (version) back at it, or create a new ExternalKey for new material';
  }
}
