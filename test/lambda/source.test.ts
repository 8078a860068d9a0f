import { ImportResourceProperties, MaterialSourceProperties, OfflineWrapSourceProperties, Pkcs11SourceProperties, SecretsManagerSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { bringsParameters, describeSource, explainImportFailure, mismatchRemedy, prepareSource, SourceContext } from '../../lambda/sources/source';

const SECRET: SecretsManagerSourceProperties = { Type: 'SecretsManager', SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf', Encoding: 'BASE64' };
const HSM: Pkcs11SourceProperties = { Type: 'Pkcs11', ModulePath: '/opt/lib/libhsm.so', TokenLabel: 'byok', PinSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pin-AbCdEf', KeyLabel: 'aes-1', KeyId: '01a2' };
const OFFLINE: OfflineWrapSourceProperties = { Type: 'OfflineWrap', ParametersSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:params-AbCdEf', WrappedSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:wrapped-AbCdEf' };
const UNKNOWN = { Type: 'CarrierPigeon' } as unknown as MaterialSourceProperties;
const ctx: SourceContext = {
  keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', keySpec: 'SYMMETRIC_DEFAULT', partition: 'aws',
  wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096', now: new Date(),
};
const importOf = (material: MaterialSourceProperties) => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:f', KeyArn: ctx.keyArn, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096', Material: material, Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
}) as ImportResourceProperties;

describe('prepareSource', () => {
  test('an unknown source type is a rejected promise (never a synchronous throw) with an InvalidProperty error naming the type', async () => {
    const prepared = prepareSource(UNKNOWN, ctx);
    expect(prepared).toBeInstanceOf(Promise);
    const error = await prepared.then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect(error).toMatchObject({ code: 'InvalidProperty', message: 'material source type \'CarrierPigeon\' is not known' });
  });

  test('a source without a type is refused as undefined', async () => {
    await expect(prepareSource({} as MaterialSourceProperties, ctx)).rejects.toThrow('material source type \'undefined\' is not known');
  });

  test('a SecretsManager source goes to the Secrets Manager reader, which checks the ARN first', async () => {
    await expect(prepareSource({ ...SECRET, SecretArn: 'arn:aws:s3:::bucket/key' }, ctx)).rejects.toMatchObject({ code: 'MaterialSource', message: expect.stringMatching(/is not a Secrets Manager secret ARN$/) });
  });

  test('a Pkcs11 source goes to the HSM source, which checks its properties before loading a module', async () => {
    await expect(prepareSource({ ...HSM, KeyLabel: undefined, KeyId: undefined }, ctx)).rejects.toMatchObject({ code: 'InvalidProperty', message: 'property Material has neither KeyLabel nor KeyId: name the HSM key to import' });
  });

  test('an OfflineWrap source goes to the offline source, which reads its secrets through the one reader (ARN checked first)', async () => {
    await expect(prepareSource({ ...OFFLINE, WrappedSecretArn: 'arn:aws:s3:::bucket/key' }, ctx)).rejects.toMatchObject({ code: 'MaterialSource', message: "'arn:aws:s3:::bucket/key' is not a Secrets Manager secret ARN" });
  });
});

describe('bringsParameters', () => {
  test('only offline-wrapped material brings the parameters it was wrapped for', () => {
    expect(bringsParameters(OFFLINE)).toBe(true);
    expect(bringsParameters(SECRET)).toBe(false);
    expect(bringsParameters(HSM)).toBe(false);
  });
});

describe('explainImportFailure', () => {
  test('the offline source explains a refused token, naming the parameters secret', () => {
    expect(explainImportFailure(importOf(OFFLINE), 'InvalidImportTokenException')).toMatchObject({ code: 'ImportToken', message: expect.stringContaining(`published in secret ${OFFLINE.ParametersSecretArn}`) });
  });

  test.each([
    ['another source', SECRET, 'InvalidImportTokenException'],
    ['an error the offline source does not explain', OFFLINE, 'DisabledException'],
    ['a name inherited from Object', OFFLINE, 'toString'],
    ['no name', OFFLINE, undefined],
  ])('%s is left to the KMS error map', (_what, material, name) => {
    expect(explainImportFailure(importOf(material), name)).toBeUndefined();
  });
});

describe('describeSource', () => {
  test('a secret is named by its ARN', () => {
    expect(describeSource(SECRET)).toBe(`secret ${SECRET.SecretArn}`);
  });

  test('an HSM key is named by label, id and token', () => {
    expect(describeSource(HSM)).toBe('HSM key \'aes-1\' (CKA_ID 01a2) on token \'byok\'');
  });

  test('offline-wrapped material is named by its wrapped secret', () => {
    expect(describeSource(OFFLINE)).toBe(`the wrapped material in secret ${OFFLINE.WrappedSecretArn}`);
  });

  test('an unknown source has a generic name', () => {
    expect(describeSource(UNKNOWN)).toBe('the material source');
  });
});

describe('mismatchRemedy', () => {
  test('for an HSM key, says to select the first-imported HSM key and mentions SoftHSM padding', () => {
    const remedy = mismatchRemedy(HSM);
    expect(remedy).toMatch(/^Select the HSM key that was first imported into this KMS key \(keyLabel \/ keyId\)/);
    expect(remedy).toContain('SoftHSM 2.6 pads private keys');
  });

  test('for a secret, says to point the secret version back at the material', () => {
    expect(mismatchRemedy(SECRET)).toBe('Point the secret (version) back at it, or create a new ExternalKey for new material');
  });
});
