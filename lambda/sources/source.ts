import { ErrorCodes, MaterialSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../errors';
import { describePkcs11Source, preparePkcs11Source } from './pkcs11'; // issue 5
import { prepareSecretsManagerSource } from './secrets-manager';

/** What every material source knows about the import it serves. */
export interface SourceContext {
  readonly keySpec: string;
  readonly partition: string;
}

/**
 * A material source, ready to wrap. `prepare` runs in parallel with GetParametersForImport (it
 * reads a secret, or opens an HSM session); `wrap` produces the EncryptedKeyMaterial for the
 * wrapping public key KMS returned; `close` always runs, and zeroes or releases what it holds.
 */
export interface PreparedSource {
  wrap(publicKeyDer: Uint8Array, wrappingAlgorithm: string): Buffer | Promise<Buffer>;
  close(): void | Promise<void>;
}

export async function prepareSource(source: MaterialSourceProperties, ctx: SourceContext): Promise<PreparedSource> {
  switch (source.Type) {
    case 'SecretsManager':
      return prepareSecretsManagerSource(source, ctx);
    case 'Pkcs11': // issue 5: the HSM wraps the key itself
      return preparePkcs11Source(source, ctx);
    default:
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `material source type '${(source as { Type?: string }).Type}' is not known`);
  }
}

/** A short name of the source for messages. */
export function describeSource(source: MaterialSourceProperties): string {
  switch (source.Type) {
    case 'SecretsManager':
      return `secret ${source.SecretArn}`;
    case 'Pkcs11': // issue 5
      return describePkcs11Source(source);
    case 'OfflineWrap':
      return `the wrapped material in secret ${source.WrappedSecretArn}`;
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
