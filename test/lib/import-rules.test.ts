import { checkImportCombination, CombinationInput, defaultWrapping, partitionOf } from '../../lib/private/import-rules';

const ok: CombinationInput = { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096', partition: 'aws' };

describe('partitionOf', () => {
  test.each([
    ['us-east-1', 'aws'],
    ['ap-southeast-4', 'aws'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
  ])('region %s is in partition %s', (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  test.each([undefined, '', 'US-EAST-1', 'us-east', 'useast1', 'us-east-1a', '${Token[AWS.Region.7]}'])('%p is not a region name, so the partition is unknown', (region) => {
    expect(partitionOf(region)).toBeUndefined();
  });
});

describe('defaultWrapping', () => {
  test('RSA material defaults to RSA_AES_KEY_WRAP_SHA_256, everything else to RSAES_OAEP_SHA_256, both under RSA_4096', () => {
    expect(defaultWrapping('RSA')).toEqual({ wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeySpec: 'RSA_4096' });
    for (const kind of ['SYMMETRIC', 'HMAC', 'ECC', 'SM2'] as const) expect(defaultWrapping(kind)).toEqual({ wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096' });
  });
});

describe('checkImportCombination', () => {
  test('a valid combination has no violation', () => {
    expect(checkImportCombination(ok)).toBeUndefined();
  });

  test('a key spec KMS does not know is refused with the list of importable specs', () => {
    expect(checkImportCombination({ ...ok, keySpec: 'AES_512' })).toEqual({
      code: 'KeySpecNotImportable',
      message: 'key spec \'AES_512\' is not a KMS key spec that supports imported key material; use one of SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SM2',
    });
  });

  test('Ed25519 is refused with its own reason', () => {
    expect(checkImportCombination({ ...ok, keySpec: 'ECC_NIST_EDWARDS25519', keyUsage: 'SIGN_VERIFY' })).toEqual({ code: 'KeySpecNotImportable', message: 'key spec \'ECC_NIST_EDWARDS25519\' cannot have imported key material: KMS does not document importing Ed25519 key material' });
  });

  test('RSAES_PKCS1_V1_5 is refused with the date KMS stopped supporting it', () => {
    expect(checkImportCombination({ ...ok, wrappingAlgorithm: 'RSAES_PKCS1_V1_5' })).toEqual({
      code: 'WrappingCombination',
      message: 'wrapping algorithm \'RSAES_PKCS1_V1_5\' is not supported (KMS stopped supporting RSAES_PKCS1_V1_5 on 2023-10-10); use one of RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256',
    });
  });

  test('SM2PKE wrapping is refused as not supported by this library, even in China', () => {
    expect(checkImportCombination({ ...ok, partition: 'aws-cn', wrappingAlgorithm: 'SM2PKE' })?.message).toMatch(/^wrapping algorithm 'SM2PKE' is not supported \(SM2PKE wrapping is not supported by this library\)/);
  });

  test('an unknown wrapping algorithm is refused as unknown', () => {
    expect(checkImportCombination({ ...ok, wrappingAlgorithm: 'RSAES_OAEP_SHA_512' })).toMatchObject({ code: 'WrappingCombination', message: expect.stringContaining('\'RSAES_OAEP_SHA_512\' is not supported (unknown algorithm)') });
  });

  test('an unknown wrapping key spec is refused with the supported sizes', () => {
    expect(checkImportCombination({ ...ok, wrappingKeySpec: 'RSA_1024' })).toEqual({ code: 'WrappingCombination', message: 'wrapping key spec \'RSA_1024\' is not supported; use one of RSA_2048, RSA_3072, RSA_4096' });
  });

  test('SM2 is accepted in China, with OAEP wrapping', () => {
    expect(checkImportCombination({ ...ok, partition: 'aws-cn', keySpec: 'SM2', keyUsage: 'SIGN_VERIFY' })).toBeUndefined();
  });

  test('SM2 and RSA_AES_KEY_WRAP are left alone when the partition is unknown', () => {
    expect(checkImportCombination({ ...ok, partition: undefined, keySpec: 'SM2', keyUsage: 'ENCRYPT_DECRYPT' })).toBeUndefined();
    expect(checkImportCombination({ ...ok, partition: undefined, wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' })).toBeUndefined();
  });

  test('SM2 in GovCloud is refused naming the partition', () => {
    expect(checkImportCombination({ ...ok, partition: 'aws-us-gov', keySpec: 'SM2', keyUsage: 'SIGN_VERIFY' })).toEqual({ code: 'KeySpecNotImportable', message: 'key spec \'SM2\' is only available in the China partition (aws-cn), not in \'aws-us-gov\'' });
  });

  test('ECC_NIST_P521 under RSA_2048 is accepted with RSA_AES_KEY_WRAP and with a larger wrapping key', () => {
    const p521 = { ...ok, keySpec: 'ECC_NIST_P521', keyUsage: 'SIGN_VERIFY' };
    expect(checkImportCombination({ ...p521, wrappingKeySpec: 'RSA_2048', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_1' })).toBeUndefined();
    expect(checkImportCombination({ ...p521, wrappingKeySpec: 'RSA_3072' })).toBeUndefined();
    expect(checkImportCombination({ ...p521, wrappingKeySpec: 'RSA_2048' })?.code).toBe('WrappingCombination');
  });
});
