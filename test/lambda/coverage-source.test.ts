import { MaterialSourceProperties, Pkcs11SourceProperties, SecretsManagerSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { describeSource, mismatchRemedy, prepareSource } from '../../lambda/sources/source';

const SECRET: SecretsManagerSourceProperties = { Type: 'SecretsManager', SecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf', Encoding: 'BASE64' };
const HSM: Pkcs11SourceProperties = { Type: 'Pkcs11', ModulePath: '/opt/lib/libhsm.so', TokenLabel: 'byok', PinSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pin-AbCdEf', KeyLabel: 'aes-1', KeyId: '01a2' };
const UNKNOWN = { Type: 'CarrierPigeon' } as unknown as MaterialSourceProperties;
const ctx = { keySpec: 'SYMMETRIC_DEFAULT', partition: 'aws' };

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
});

describe('describeSource', () => {
  test('a secret is named by its ARN', () => {
    expect(describeSource(SECRET)).toBe(`secret ${SECRET.SecretArn}`);
  });

  test('an HSM key is named by label, id and token', () => {
    expect(describeSource(HSM)).toBe('HSM key \'aes-1\' (CKA_ID 01a2) on token \'byok\'');
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
