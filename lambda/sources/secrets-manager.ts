import { ErrorCodes, MaterialEncodingName, MaterialEncodings, SecretsManagerSourceProperties } from '../../lib/private/contract';
import { IMPORTABLE_KEY_SPECS } from '../../lib/private/import-rules';
import { ImportError } from '../errors';
import { checkMaterial, decodeText } from '../material';
import { readSecret, secretText } from '../secret';
import { wrapKeyMaterial } from '../wrap';
import type { PreparedSource, SourceContext } from './source';

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
 * the returned buffer.
 */
export async function readSecretMaterial(source: SecretsManagerSourceProperties, keySpec: string): Promise<Buffer> {
  const value = await readSecret({ arn: source.SecretArn, versionId: source.VersionId, versionStage: source.VersionStage });
  const name = value.name;
  // No encoding given: the secret's own type decides (docs/bad-input.md, "Material encoding").
  if (value.binary) {
    if ((source.Encoding ?? MaterialEncodings.BINARY) !== MaterialEncodings.BINARY || source.JsonField) {
      value.binary.fill(0);
      throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${name} holds a SecretBinary, but ${source.JsonField ? 'jsonField is set' : `the encoding is ${source.Encoding}`}; a SecretBinary is read as raw bytes (DER for RSA/ECC/SM2 keys): leave the encoding unset or use KeyMaterialEncoding.BINARY${source.JsonField ? ', without jsonField' : ''}`);
    }
    return value.binary;
  }
  if (source.Encoding === MaterialEncodings.BINARY) {
    throw new ImportError(ErrorCodes.MATERIAL_ENCODING, `${name} holds a SecretString, but the encoding is BINARY; store the material as SecretBinary, or leave the encoding unset (base64 for symmetric/HMAC keys, PEM for RSA/ECC/SM2) or choose KeyMaterialEncoding.BASE64, HEX or PEM`);
  }
  const text = secretText(value, source.JsonField ? { name: source.JsonField, option: 'jsonField' } : undefined);
  const what = `the value of ${name}${source.JsonField ? ` field '${source.JsonField}'` : ''}`;
  return decodeText(text, source.Encoding ?? defaultTextEncoding(keySpec), what);
}

/** A SecretString without an explicit encoding: base64 for symmetric and HMAC material, PEM otherwise. */
function defaultTextEncoding(keySpec: string): MaterialEncodingName {
  const kind = IMPORTABLE_KEY_SPECS[keySpec]?.kind;
  return kind === 'SYMMETRIC' || kind === 'HMAC' ? MaterialEncodings.BASE64 : MaterialEncodings.PEM;
}
