import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { ErrorCodes } from './contract';
import { ByokError } from './errors';
import { checkSecretIsReachable, secretReadStatements } from './secret-grants';
import type { KeyMaterialBinding } from '../key-material';
import type { Pkcs11KeyMaterialProps } from '../pkcs11-material';

/** Refuses properties that cannot name a key in a token; at synth, where each is known. */
export function validatePkcs11Props(props: Pkcs11KeyMaterialProps): void {
  const invalid = (message: string) => new ByokError(ErrorCodes.INVALID_PROPERTY, message);
  if (!Token.isUnresolved(props.modulePath) && !props.modulePath.startsWith('/')) {
    throw invalid(`modulePath '${props.modulePath}' is not an absolute path; give the library's path in the handler, e.g. '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so'`);
  }
  // CK_TOKEN_INFO.label is 32 bytes, blank-padded.
  if (!Token.isUnresolved(props.tokenLabel) && (props.tokenLabel.length === 0 || Buffer.byteLength(props.tokenLabel) > 32 || props.tokenLabel !== props.tokenLabel.trimEnd())) {
    throw invalid(`tokenLabel '${props.tokenLabel}' is not a PKCS#11 token label (1 to 32 bytes, no trailing blanks)`);
  }
  if (props.keyLabel === undefined && props.keyId === undefined) {
    throw invalid('KeyMaterial.fromPkcs11 needs keyLabel or keyId to name the key in the HSM');
  }
  if (props.keyId !== undefined && !Token.isUnresolved(props.keyId) && !/^([0-9a-fA-F]{2})+$/.test(props.keyId)) {
    throw invalid(`keyId '${props.keyId}' is not hexadecimal bytes (CKA_ID), e.g. '01a2'`);
  }
}

/**
 * What a PKCS#11 material contributes to a key's import: the HSM wraps the key under the KMS
 * wrapping public key (C_WrapKey), so the plaintext key never leaves the HSM; the handler needs
 * the PKCS#11 bindings (an import provider with an HSM connection) and reads only the PIN secret.
 */
export function bindPkcs11(props: Pkcs11KeyMaterialProps, scope: IConstruct): KeyMaterialBinding {
  checkSecretIsReachable(props.pinSecret, scope);
  const statements = secretReadStatements(props.pinSecret, scope, props.pinSecretEncryptionKey, 'the HSM PIN secret');
  return {
    source: {
      Type: 'Pkcs11',
      ModulePath: props.modulePath,
      TokenLabel: props.tokenLabel,
      PinSecretArn: props.pinSecret.secretArn,
      PinJsonField: props.pinJsonField,
      KeyLabel: props.keyLabel,
      KeyId: props.keyId?.toLowerCase(),
    },
    statements,
    pkcs11: { moduleLayer: props.moduleLayer },
  };
}
