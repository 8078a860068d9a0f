/**
 * How key material is wrapped (encrypted) for transport to KMS. Names and values are KMS's own
 * (`WrappingAlgorithm` of GetParametersForImport).
 */
export enum WrappingAlgorithm {
  /** RSA-OAEP with SHA-1 and MGF1-SHA-1. Symmetric, HMAC and ECC material. */
  RSAES_OAEP_SHA_1 = 'RSAES_OAEP_SHA_1',
  /** RSA-OAEP with SHA-256 and MGF1-SHA-256. Symmetric, HMAC and ECC material. */
  RSAES_OAEP_SHA_256 = 'RSAES_OAEP_SHA_256',
  /** A fresh AES-256 key wrapped with RSA-OAEP SHA-1, then the material wrapped with AES-KWP (RFC 5649). Any material; needed for RSA. Not in China Regions. */
  RSA_AES_KEY_WRAP_SHA_1 = 'RSA_AES_KEY_WRAP_SHA_1',
  /** A fresh AES-256 key wrapped with RSA-OAEP SHA-256, then the material wrapped with AES-KWP (RFC 5649). Any material; needed for RSA. Not in China Regions. */
  RSA_AES_KEY_WRAP_SHA_256 = 'RSA_AES_KEY_WRAP_SHA_256',
}

/** Size of the RSA wrapping key KMS generates for one import (`WrappingKeySpec`). */
export enum WrappingKeySpec {
  /** 2048-bit RSA; too small to OAEP-wrap an ECC_NIST_P521 private key. */
  RSA_2048 = 'RSA_2048',
  /** 3072-bit RSA. */
  RSA_3072 = 'RSA_3072',
  /** 4096-bit RSA, the default. */
  RSA_4096 = 'RSA_4096',
}
