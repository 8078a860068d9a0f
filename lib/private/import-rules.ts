/**
 * KMS's rules for importing key material, as data: which key specs can be imported, with which
 * key usages, and which wrapping algorithm / wrapping key spec can carry each kind of material.
 * The construct checks them at synth time; the handler checks them again at deploy time, when
 * the partition (China or not) is finally known.
 *
 * Source: docs.aws.amazon.com/kms/latest/developerguide/importing-keys-get-public-key-and-token.html
 * and importing-keys-conceptual.html.
 */

export type MaterialKind = 'SYMMETRIC' | 'HMAC' | 'RSA' | 'ECC' | 'SM2';

export interface ImportableKeySpec {
  readonly kind: MaterialKind;
  /** Key usages KMS allows for this spec; the first is our default. */
  readonly usages: readonly string[];
  /** Only in the China partition (aws-cn). */
  readonly chinaOnly?: boolean;
}

export const IMPORTABLE_KEY_SPECS: Readonly<Record<string, ImportableKeySpec>> = {
  SYMMETRIC_DEFAULT: { kind: 'SYMMETRIC', usages: ['ENCRYPT_DECRYPT'] },
  HMAC_224: { kind: 'HMAC', usages: ['GENERATE_VERIFY_MAC'] },
  HMAC_256: { kind: 'HMAC', usages: ['GENERATE_VERIFY_MAC'] },
  HMAC_384: { kind: 'HMAC', usages: ['GENERATE_VERIFY_MAC'] },
  HMAC_512: { kind: 'HMAC', usages: ['GENERATE_VERIFY_MAC'] },
  RSA_2048: { kind: 'RSA', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] },
  RSA_3072: { kind: 'RSA', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] },
  RSA_4096: { kind: 'RSA', usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'] },
  ECC_NIST_P256: { kind: 'ECC', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'] },
  ECC_NIST_P384: { kind: 'ECC', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'] },
  ECC_NIST_P521: { kind: 'ECC', usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'] },
  ECC_SECG_P256K1: { kind: 'ECC', usages: ['SIGN_VERIFY'] },
  SM2: { kind: 'SM2', usages: ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'KEY_AGREEMENT'], chinaOnly: true },
};

/** Key specs KMS has but cannot import into, with the reason shown to the user. */
export const NOT_IMPORTABLE_KEY_SPECS: Readonly<Record<string, string>> = {
  ML_DSA_44: 'KMS cannot import ML-DSA key material',
  ML_DSA_65: 'KMS cannot import ML-DSA key material',
  ML_DSA_87: 'KMS cannot import ML-DSA key material',
  ECC_NIST_EDWARDS25519: 'KMS does not document importing Ed25519 key material',
};

export const WRAPPING_ALGORITHMS = [
  'RSAES_OAEP_SHA_1',
  'RSAES_OAEP_SHA_256',
  'RSA_AES_KEY_WRAP_SHA_1',
  'RSA_AES_KEY_WRAP_SHA_256',
] as const;

export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;

/** The defaults: the strongest hash and the longest wrapping key, which fit every material. */
export function defaultWrapping(kind: MaterialKind): { wrappingAlgorithm: string; wrappingKeySpec: string } {
  const wrappingAlgorithm = kind === 'RSA' ? 'RSA_AES_KEY_WRAP_SHA_256' : 'RSAES_OAEP_SHA_256';
  return { wrappingAlgorithm, wrappingKeySpec: 'RSA_4096' };
}

export interface CombinationInput {
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly wrappingAlgorithm: string;
  readonly wrappingKeySpec: string;
  /** 'aws', 'aws-cn', 'aws-us-gov', ... or undefined when not known yet (an env-agnostic stack). */
  readonly partition?: string;
}

export interface RuleViolation {
  readonly code: 'KeySpecNotImportable' | 'KeySpecUsage' | 'WrappingCombination';
  readonly message: string;
}

/**
 * Checks one import against KMS's rules; returns the first rule broken, or undefined.
 * Partition-dependent rules are checked only when the partition is known.
 */
export function checkImportCombination(input: CombinationInput): RuleViolation | undefined {
  const { keySpec, keyUsage, wrappingAlgorithm, wrappingKeySpec, partition } = input;
  const notImportable = NOT_IMPORTABLE_KEY_SPECS[keySpec];
  if (notImportable) {
    return { code: 'KeySpecNotImportable', message: `key spec '${keySpec}' cannot have imported key material: ${notImportable}` };
  }
  const spec = IMPORTABLE_KEY_SPECS[keySpec];
  if (!spec) {
    return { code: 'KeySpecNotImportable', message: `key spec '${keySpec}' is not a KMS key spec that supports imported key material; use one of ${Object.keys(IMPORTABLE_KEY_SPECS).join(', ')}` };
  }
  if (!spec.usages.includes(keyUsage)) {
    return { code: 'KeySpecUsage', message: `key spec '${keySpec}' is not valid with usage '${keyUsage}'; use ${spec.usages.join(' or ')}` };
  }
  const china = partition === undefined ? undefined : partition === 'aws-cn';
  if (spec.chinaOnly && china === false) {
    return { code: 'KeySpecNotImportable', message: `key spec '${keySpec}' is only available in the China partition (aws-cn), not in '${partition}'` };
  }
  if (!(WRAPPING_ALGORITHMS as readonly string[]).includes(wrappingAlgorithm)) {
    const hint = wrappingAlgorithm === 'RSAES_PKCS1_V1_5'
      ? 'KMS stopped supporting RSAES_PKCS1_V1_5 on 2023-10-10'
      : wrappingAlgorithm === 'SM2PKE' ? 'SM2PKE wrapping is not supported by this library' : 'unknown algorithm';
    return { code: 'WrappingCombination', message: `wrapping algorithm '${wrappingAlgorithm}' is not supported (${hint}); use one of ${WRAPPING_ALGORITHMS.join(', ')}` };
  }
  if (!(WRAPPING_KEY_SPECS as readonly string[]).includes(wrappingKeySpec)) {
    return { code: 'WrappingCombination', message: `wrapping key spec '${wrappingKeySpec}' is not supported; use one of ${WRAPPING_KEY_SPECS.join(', ')}` };
  }
  const rsaAes = wrappingAlgorithm.startsWith('RSA_AES_KEY_WRAP');
  if (spec.kind === 'RSA' && !rsaAes) {
    return { code: 'WrappingCombination', message: `key spec '${keySpec}' needs an RSA_AES_KEY_WRAP_* wrapping algorithm: an RSA private key is too large for '${wrappingAlgorithm}'` };
  }
  if (keySpec === 'ECC_NIST_P521' && !rsaAes && wrappingKeySpec === 'RSA_2048') {
    return { code: 'WrappingCombination', message: `key spec 'ECC_NIST_P521' cannot be wrapped with '${wrappingAlgorithm}' under an RSA_2048 wrapping key (the private key does not fit); use RSA_3072 or RSA_4096, or an RSA_AES_KEY_WRAP_* algorithm` };
  }
  if (rsaAes && china === true) {
    return { code: 'WrappingCombination', message: `wrapping algorithm '${wrappingAlgorithm}' is not available in the China partition (aws-cn); use RSAES_OAEP_SHA_256` };
  }
  return undefined;
}

/** The usage a key of this spec gets when the user names none: the first KMS lists for it. */
export function defaultKeyUsage(keySpec: string): string {
  return IMPORTABLE_KEY_SPECS[keySpec]?.usages[0] ?? 'ENCRYPT_DECRYPT';
}

/** The partition a region belongs to, or undefined for an unknown (token) region. */
export function partitionOf(region: string | undefined): string | undefined {
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) return undefined;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/**
 * The ImportType of an import that keeps KMS's default (NEW for a key's first material, EXISTING
 * after): a symmetric multi-Region replica can only take its primary's material, which KMS asks
 * for as EXISTING_KEY_MATERIAL; ImportType exists for symmetric keys only
 * (docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html).
 */
export function defaultImportType(props: { Replica?: string; KeySpec: string }): 'EXISTING_KEY_MATERIAL' | undefined {
  return props.Replica === 'true' && props.KeySpec === 'SYMMETRIC_DEFAULT' ? 'EXISTING_KEY_MATERIAL' : undefined;
}

/** KMS accepts a ValidTo at most 365 days after the import request (API_ImportKeyMaterial.html, ValidTo). */
export const MAX_VALIDITY_DAYS = 365;
