/**
 * The PKCS#11 v2.40 / v3.0 constants the HSM source uses, as plain numbers. They are spelled out
 * here rather than read from pkcs11js so that this code (and its unit tests with a fake module)
 * runs without the native binding, which is loaded only when a PKCS#11 import actually happens.
 * Values: PKCS#11 v3.0 pkcs11t.h (identical to v2.40 for everything but CKM_AES_KEY_WRAP_KWP).
 */

// Object classes (CKO_*) and key types (CKK_*).
export const CKO_PUBLIC_KEY = 0x02;
export const CKO_PRIVATE_KEY = 0x03;
export const CKO_SECRET_KEY = 0x04;
export const CKK_RSA = 0x00;
export const CKK_EC = 0x03;
export const CKK_GENERIC_SECRET = 0x10;
export const CKK_AES = 0x1f;
export const CKK_SHA_1_HMAC = 0x28;
export const CKK_SHA256_HMAC = 0x2b;
export const CKK_SHA384_HMAC = 0x2c;
export const CKK_SHA512_HMAC = 0x2d;
export const CKK_SHA224_HMAC = 0x2e;

// Attributes (CKA_*).
export const CKA_CLASS = 0x000;
export const CKA_TOKEN = 0x001;
export const CKA_PRIVATE = 0x002;
export const CKA_LABEL = 0x003;
export const CKA_KEY_TYPE = 0x100;
export const CKA_ID = 0x102;
export const CKA_SENSITIVE = 0x103;
export const CKA_ENCRYPT = 0x104;
export const CKA_DECRYPT = 0x105;
export const CKA_WRAP = 0x106;
export const CKA_UNWRAP = 0x107;
export const CKA_SIGN = 0x108;
export const CKA_VERIFY = 0x10a;
export const CKA_MODULUS = 0x120;
export const CKA_PUBLIC_EXPONENT = 0x122;
export const CKA_VALUE_LEN = 0x161;
export const CKA_EXTRACTABLE = 0x162;
export const CKA_EC_PARAMS = 0x180;

// Mechanisms (CKM_*).
export const CKM_RSA_PKCS_OAEP = 0x0009;
export const CKM_RSA_AES_KEY_WRAP = 0x1054;
export const CKM_AES_KEY_GEN = 0x1080;
/** v2.40 "AES key wrap with padding". SoftHSM and CloudHSM implement it as RFC 5649, as KMS needs. */
export const CKM_AES_KEY_WRAP_PAD = 0x210a;
/** v3.0's unambiguous RFC 5649 mechanism; preferred when a module offers it. */
export const CKM_AES_KEY_WRAP_KWP = 0x210b;
export const CKM_SHA_1 = 0x0220;
export const CKM_SHA256 = 0x0250;

// OAEP parameters.
export const CKG_MGF1_SHA1 = 0x1;
export const CKG_MGF1_SHA256 = 0x2;
/** CK_RSA_PKCS_OAEP_PARAMS.source: the (empty) label is given explicitly. pkcs11js lacks the constant. */
export const CKZ_DATA_SPECIFIED = 0x1;
/** pkcs11js's tag for a CK_RSA_PKCS_OAEP_PARAMS mechanism parameter. */
export const CK_PARAMS_RSA_OAEP = 4;

// Sessions, users, mechanism flags.
export const CKF_RW_SESSION = 0x2;
export const CKF_SERIAL_SESSION = 0x4;
export const CKF_WRAP = 0x20000;
export const CKU_USER = 1;

/** Return values (CKR_*) that the source names or reacts to. */
export const CKR = {
  OK: 0x0,
  GENERAL_ERROR: 0x5,
  ARGUMENTS_BAD: 0x7,
  ATTRIBUTE_SENSITIVE: 0x11,
  ATTRIBUTE_TYPE_INVALID: 0x12,
  ATTRIBUTE_VALUE_INVALID: 0x13,
  DATA_LEN_RANGE: 0x21,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  FUNCTION_NOT_SUPPORTED: 0x54,
  KEY_HANDLE_INVALID: 0x60,
  KEY_SIZE_RANGE: 0x62,
  KEY_TYPE_INCONSISTENT: 0x63,
  KEY_FUNCTION_NOT_PERMITTED: 0x68,
  KEY_NOT_WRAPPABLE: 0x69,
  KEY_UNEXTRACTABLE: 0x6a,
  MECHANISM_INVALID: 0x70,
  MECHANISM_PARAM_INVALID: 0x71,
  PIN_INCORRECT: 0xa0,
  PIN_INVALID: 0xa1,
  PIN_LEN_RANGE: 0xa2,
  PIN_EXPIRED: 0xa3,
  PIN_LOCKED: 0xa4,
  SESSION_HANDLE_INVALID: 0xb3,
  TEMPLATE_INCOMPLETE: 0xd0,
  TEMPLATE_INCONSISTENT: 0xd1,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_WRITE_PROTECTED: 0xe2,
  USER_ALREADY_LOGGED_IN: 0x100,
  USER_NOT_LOGGED_IN: 0x101,
  USER_PIN_NOT_INITIALIZED: 0x102,
  USER_TYPE_INVALID: 0x103,
  WRAPPING_KEY_HANDLE_INVALID: 0x113,
  WRAPPING_KEY_SIZE_RANGE: 0x114,
  WRAPPING_KEY_TYPE_INCONSISTENT: 0x115,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
  BUFFER_TOO_SMALL: 0x150,
} as const;

const CKR_NAMES = new Map<number, string>(Object.entries(CKR).map(([name, code]) => [code, `CKR_${name}`]));

/** `CKR_ARGUMENTS_BAD (0x7)`, or the bare hex code for a return value not in the table (vendor codes). */
export function ckrName(code: number): string {
  const name = CKR_NAMES.get(code);
  return name ? `${name} (0x${code.toString(16)})` : `CKR 0x${code.toString(16)}`;
}

/** Named-curve OIDs (DER, as in CKA_EC_PARAMS) for the EC key specs KMS imports. */
export const EC_PARAMS_BY_KEY_SPEC: Readonly<Record<string, string>> = {
  ECC_NIST_P256: '06082a8648ce3d030107', // prime256v1
  ECC_NIST_P384: '06052b81040022', // secp384r1
  ECC_NIST_P521: '06052b81040023', // secp521r1
  ECC_SECG_P256K1: '06052b8104000a', // secp256k1
  SM2: '06082a811ccf5501822d', // 1.2.156.10197.1.301
};
