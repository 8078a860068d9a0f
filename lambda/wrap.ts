import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes } from 'crypto';
import { ErrorCodes } from '../lib/private/contract';
import { ImportError } from './errors';

/**
 * Wraps key material under the KMS wrapping public key, exactly as KMS unwraps it
 * (docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html):
 * - RSAES_OAEP_SHA_1/256: RSA-OAEP with that hash and MGF1 with the same hash, empty label;
 * - RSA_AES_KEY_WRAP_SHA_1/256: a fresh AES-256 key, RSA-OAEP-wrapped as above, followed by the
 *   material wrapped with AES Key Wrap with Padding (RFC 5649, IV A65959A6).
 * The caller owns `material` and zeroes it; this function zeroes the ephemeral AES key.
 */
export function wrapKeyMaterial(material: Buffer, wrappingPublicKeyDer: Uint8Array, wrappingAlgorithm: string): Buffer {
  const publicKey = createPublicKey({ key: Buffer.from(wrappingPublicKeyDer), format: 'der', type: 'spki' });
  const oaepHash = wrappingAlgorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const oaep = (data: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);

  if (wrappingAlgorithm === 'RSAES_OAEP_SHA_1' || wrappingAlgorithm === 'RSAES_OAEP_SHA_256') {
    const modulusBytes = (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const capacity = modulusBytes - 2 * (oaepHash === 'sha256' ? 32 : 20) - 2;
    if (material.length > capacity) {
      throw new ImportError(ErrorCodes.WRAPPING_COMBINATION, `the ${material.length}-byte material does not fit ${wrappingAlgorithm} under a ${modulusBytes * 8}-bit wrapping key (at most ${capacity} bytes); use a larger wrappingKeySpec or an RSA_AES_KEY_WRAP_* algorithm`);
    }
    return oaep(material);
  }
  if (wrappingAlgorithm === 'RSA_AES_KEY_WRAP_SHA_1' || wrappingAlgorithm === 'RSA_AES_KEY_WRAP_SHA_256') {
    const aesKey = randomBytes(32);
    try {
      const cipher = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('A65959A6', 'hex'));
      const wrappedMaterial = Buffer.concat([cipher.update(material), cipher.final()]);
      return Buffer.concat([oaep(aesKey), wrappedMaterial]);
    } finally {
      aesKey.fill(0);
    }
  }
  throw new ImportError(ErrorCodes.WRAPPING_COMBINATION, `wrapping algorithm '${wrappingAlgorithm}' is not supported`);
}
