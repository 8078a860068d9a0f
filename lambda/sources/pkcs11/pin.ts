import { Pkcs11SourceProperties } from '../../../lib/private/contract';
import { readSecret, secretText } from '../../secret';

/**
 * Reads the HSM user PIN from Secrets Manager. The PIN is never logged and never put in an error;
 * it lives in a JS string (pkcs11js's C_Login takes one), which cannot be zeroed.
 * For CloudHSM the "PIN" is `<crypto user name>:<password>`.
 */
export async function readPin(source: Pkcs11SourceProperties): Promise<string> {
  const value = await readSecret({ arn: source.PinSecretArn, role: 'the HSM PIN secret' });
  try {
    // A PIN stored with `aws secretsmanager ... --secret-string file://pin.txt` usually ends in a newline.
    return secretText(value, source.PinJsonField ? { name: source.PinJsonField, option: 'pinJsonField' } : undefined).replace(/\r?\n$/, '');
  } finally {
    value.binary?.fill(0);
  }
}
