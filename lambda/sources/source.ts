import { ErrorCodes, MaterialSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../errors';
import { prepareSecretsManagerSource } from './secrets-manager';

/** What every material source knows about the import it serves. */
export interface SourceContext {
  readonly keySpec: string;
  readonly partition: string;
  readonly signal?: AbortSignal;
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

export function prepareSource(source: MaterialSourceProperties, ctx: SourceContext): Promise<PreparedSource> {
  switch (source.Type) {
    case 'SecretsManager':
      return prepareSecretsManagerSource(source, ctx);
    default:
      throw new ImportError(ErrorCodes.INVALID_PROPERTY, `material source type '${(source as { Type?: string }).Type}' is not known`);
  }
}

/** A short name of the source for messages. */
export function describeSource(source: MaterialSourceProperties): string {
  switch (source.Type) {
    case 'SecretsManager':
      return `secret ${source.SecretArn}`;
    default:
      return 'the material source';
  }
}
