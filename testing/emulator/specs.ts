/**
 * Key specs, key usages and the algorithms KMS attaches to each combination ("Key spec
 * reference", AWS KMS Developer Guide, and the
 * KeyMetadata recorded from real AWS: e.g. RSA_4096/ENCRYPT_DECRYPT lists
 * ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], ECC_NIST_P521/SIGN_VERIFY ["ECDSA_SHA_512"]).
 */

export const KEY_SPECS = [
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'ECC_NIST_EDWARDS25519',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'SM2',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
  'ML_KEM_512',
  'ML_KEM_768',
  'ML_KEM_1024',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'ENCAPSULATE_DECAPSULATE'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const ORIGINS = ['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE'] as const;
export type Origin = (typeof ORIGINS)[number];

export const WRAPPING_ALGORITHMS = [
  'RSAES_PKCS1_V1_5',
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
  'RSA_AES_KEY_WRAP_SHA_1',
  'RSA_AES_KEY_WRAP_SHA_256',
  'SM2PKE',
] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

export const ENCRYPTION_ALGORITHMS = ['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];

export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'SM2DSA',
  'ML_DSA_SHAKE_256',
  'ED25519_SHA_512',
  'ED25519_PH_SHA_512',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number];

export type KeyFamily = 'SYMMETRIC' | 'RSA' | 'ECC' | 'HMAC' | 'SM2' | 'ED25519' | 'ML_DSA' | 'ML_KEM';

export function keyFamily(spec: KeySpec): KeyFamily {
  if (spec === 'SYMMETRIC_DEFAULT') return 'SYMMETRIC';
  if (spec.startsWith('RSA_')) return 'RSA';
  if (spec === 'ECC_NIST_EDWARDS25519') return 'ED25519';
  if (spec.startsWith('ECC_')) return 'ECC';
  if (spec.startsWith('HMAC_')) return 'HMAC';
  if (spec === 'SM2') return 'SM2';
  if (spec.startsWith('ML_DSA')) return 'ML_DSA';
  return 'ML_KEM';
}

/** Usages KMS accepts per key spec (KeyUsage in the CreateKey API reference). */
export function allowedUsages(spec: KeySpec): KeyUsage[] {
  switch (keyFamily(spec)) {
    case 'SYMMETRIC':
      return ['ENCRYPT_DECRYPT'];
    case 'HMAC':
      return ['GENERATE_VERIFY_MAC'];
    case 'RSA':
      return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'];
    case 'ECC':
      return spec === 'ECC_SECG_P256K1' ? ['SIGN_VERIFY'] : ['SIGN_VERIFY', 'KEY_AGREEMENT'];
    case 'SM2':
      return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'KEY_AGREEMENT'];
    case 'ED25519':
    case 'ML_DSA':
      return ['SIGN_VERIFY'];
    case 'ML_KEM':
      return ['ENCAPSULATE_DECAPSULATE'];
  }
}

export const RSA_MODULUS_BITS: Partial<Record<KeySpec, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/** Node/OpenSSL curve names of the elliptic-curve key specs. */
export const EC_CURVES: Partial<Record<KeySpec, string>> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
  ECC_SECG_P256K1: 'secp256k1',
  SM2: 'SM2',
};

/** HMAC key spec → digest bits (HMAC_224 → 224). */
export function hmacBits(spec: KeySpec): number {
  return Number(spec.slice('HMAC_'.length));
}

export interface AlgorithmLists {
  EncryptionAlgorithms?: string[];
  SigningAlgorithms?: string[];
  MacAlgorithms?: string[];
  KeyAgreementAlgorithms?: string[];
  EncapsulationAlgorithms?: string[];
}

/** The algorithm lists KeyMetadata and GetPublicKey carry for a spec and usage. */
export function algorithmsFor(spec: KeySpec, usage: KeyUsage): AlgorithmLists {
  const family = keyFamily(spec);
  switch (usage) {
    case 'ENCRYPT_DECRYPT':
      if (family === 'SYMMETRIC') return { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] };
      if (family === 'RSA') return { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] };
      return { EncryptionAlgorithms: ['SM2PKE'] };
    case 'SIGN_VERIFY':
      if (family === 'RSA') {
        return {
          SigningAlgorithms: [
            'RSASSA_PKCS1_V1_5_SHA_256',
            'RSASSA_PKCS1_V1_5_SHA_384',
            'RSASSA_PKCS1_V1_5_SHA_512',
            'RSASSA_PSS_SHA_256',
            'RSASSA_PSS_SHA_384',
            'RSASSA_PSS_SHA_512',
          ],
        };
      }
      if (spec === 'ECC_NIST_P384') return { SigningAlgorithms: ['ECDSA_SHA_384'] };
      if (spec === 'ECC_NIST_P521') return { SigningAlgorithms: ['ECDSA_SHA_512'] };
      if (family === 'ECC') return { SigningAlgorithms: ['ECDSA_SHA_256'] };
      if (family === 'SM2') return { SigningAlgorithms: ['SM2DSA'] };
      if (family === 'ED25519') return { SigningAlgorithms: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] };
      return { SigningAlgorithms: ['ML_DSA_SHAKE_256'] };
    case 'GENERATE_VERIFY_MAC':
      return { MacAlgorithms: [`HMAC_SHA_${hmacBits(spec)}`] };
    case 'KEY_AGREEMENT':
      return { KeyAgreementAlgorithms: ['ECDH'] };
    case 'ENCAPSULATE_DECAPSULATE':
      return { EncapsulationAlgorithms: ['ML_KEM'] };
  }
}

/**
 * Key specs whose material can be imported ("Requirements for imported key material" in
 * "Importing key material", AWS KMS Developer Guide).
 * ML-DSA is documented as not importable; Edwards25519 is not on the list; ML-KEM neither.
 */
export function isImportable(spec: KeySpec): boolean {
  return ['SYMMETRIC', 'RSA', 'ECC', 'HMAC', 'SM2'].includes(keyFamily(spec));
}

/** China Regions (cn-north-1, cn-northwest-1): SM2/SM4 world, no RSA_AES wrapping ("Download the public key and import token", AWS KMS Developer Guide). */
export function isChinaRegion(region: string): boolean {
  return region.startsWith('cn-');
}

/** Hash of a signing algorithm, in node's naming. */
export function signingHash(alg: SigningAlgorithm): 'sha256' | 'sha384' | 'sha512' {
  if (alg.endsWith('_384')) return 'sha384';
  if (alg.endsWith('_512')) return 'sha512';
  return 'sha256';
}
