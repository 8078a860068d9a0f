import { randomBytes } from 'crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerSourceProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { prepareSecretsManagerSource, readSecretMaterial } from '../../lambda/sources/secrets-manager';
import * as wrap from '../../lambda/wrap';

const secrets = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:byok-AbCdEf';

const source = (overrides: Partial<SecretsManagerSourceProperties> = {}): SecretsManagerSourceProperties => ({
  Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64', ...overrides,
});

async function failure(s: SecretsManagerSourceProperties): Promise<ImportError> {
  const e = await readSecretMaterial(s, 'SYMMETRIC_DEFAULT').then(() => undefined, (err) => err);
  expect(e).toBeInstanceOf(ImportError);
  return e as ImportError;
}

const CTX = {
  keyArn: 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', keySpec: 'SYMMETRIC_DEFAULT', partition: 'aws',
  wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096', now: new Date(),
};

beforeEach(() => secrets.reset());

describe('readSecretMaterial', () => {
  test('a base64 SecretString is decoded, read in the secret\'s own region', async () => {
    const material = randomBytes(32);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: material.toString('base64') });
    await expect(readSecretMaterial(source(), 'SYMMETRIC_DEFAULT')).resolves.toEqual(material);
    const client = secrets.commandCalls(GetSecretValueCommand)[0].thisValue as SecretsManagerClient;
    await expect(client.config.region()).resolves.toBe('eu-central-1');
  });

  test('a pinned VersionId and VersionStage are passed to GetSecretValue', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AAAA' });
    await readSecretMaterial(source({ VersionId: 'v-7', VersionStage: 'AWSPREVIOUS' }), 'SYMMETRIC_DEFAULT');
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: 'v-7', VersionStage: 'AWSPREVIOUS' });
  });

  test('an ARN of another service is refused before any call', async () => {
    const e = await failure(source({ SecretArn: 'arn:aws:ssm:us-east-1:111122223333:parameter/byok' }));
    expect(e.code).toBe('MaterialSource');
    expect(e.message).toBe('\'arn:aws:ssm:us-east-1:111122223333:parameter/byok\' is not a Secrets Manager secret ARN');
    expect(secrets).not.toHaveReceivedAnyCommand();
  });

  test('a string that is not an ARN at all is refused before any call', async () => {
    await expect(failure(source({ SecretArn: 'byok-secret' }))).resolves.toMatchObject({ code: 'MaterialSource', message: '\'byok-secret\' is not a Secrets Manager secret ARN' });
    expect(secrets).not.toHaveReceivedAnyCommand();
  });

  test('BINARY encoding returns a copy of the SecretBinary and zeroes the SDK\'s buffer', async () => {
    const bytes = new Uint8Array(randomBytes(32));
    const expected = Buffer.from(bytes);
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: bytes });
    const result = await readSecretMaterial(source({ Encoding: 'BINARY' }), 'SYMMETRIC_DEFAULT');
    expect(result).toEqual(expected);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  test('BINARY encoding of a secret that holds a SecretString says to store SecretBinary or choose a text encoding', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'AAAA' });
    const e = await failure(source({ Encoding: 'BINARY', VersionId: 'v-2' }));
    expect(e.code).toBe('MaterialEncoding');
    expect(e.message).toBe(`secret ${SECRET_ARN} (version v-2) holds a SecretString, but the encoding is BINARY; store the material as SecretBinary, or leave the encoding unset (base64 for symmetric/HMAC keys, PEM for RSA/ECC/SM2) or choose KeyMaterialEncoding.BASE64, HEX or PEM`);
  });

  describe('without an encoding, the secret decides', () => {
    test('a SecretBinary is the raw bytes (what --secret-binary fileb:// stores), and the SDK\'s buffer is zeroed', async () => {
      const bytes = new Uint8Array(randomBytes(32));
      const expected = Buffer.from(bytes);
      secrets.on(GetSecretValueCommand).resolves({ SecretBinary: bytes });
      await expect(readSecretMaterial(source({ Encoding: undefined }), 'SYMMETRIC_DEFAULT')).resolves.toEqual(expected);
      expect(bytes.every((b) => b === 0)).toBe(true);
    });

    test('a SecretString is base64 for a symmetric or HMAC key', async () => {
      const material = randomBytes(32);
      secrets.on(GetSecretValueCommand).resolves({ SecretString: material.toString('base64') });
      await expect(readSecretMaterial(source({ Encoding: undefined }), 'HMAC_256')).resolves.toEqual(material);
    });

    test('a SecretString is PEM for an asymmetric key', async () => {
      secrets.on(GetSecretValueCommand).resolves({ SecretString: 'QUJD' });
      const e = await readSecretMaterial(source({ Encoding: undefined }), 'ECC_NIST_P256').catch((err) => err);
      expect(e).toMatchObject({ code: 'MaterialEncoding', message: expect.stringContaining('is not PEM') });
    });

    test('a SecretBinary with jsonField is refused: only a SecretString has fields', async () => {
      secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(32) });
      const e = await failure(source({ Encoding: undefined, JsonField: 'key' }));
      expect(e).toMatchObject({ code: 'MaterialEncoding', message: `secret ${SECRET_ARN} holds a SecretBinary, but jsonField is set; a SecretBinary is read as raw bytes (DER for RSA/ECC/SM2 keys): leave the encoding unset or use KeyMaterialEncoding.BINARY, without jsonField` });
    });
  });

  test('a text encoding of a secret that holds a SecretBinary says to use BINARY', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(32) });
    const e = await failure(source({ Encoding: 'HEX' }));
    expect(e.code).toBe('MaterialEncoding');
    expect(e.message).toBe(`secret ${SECRET_ARN} holds a SecretBinary, but the encoding is HEX; a SecretBinary is read as raw bytes (DER for RSA/ECC/SM2 keys): leave the encoding unset or use KeyMaterialEncoding.BINARY`);
  });

  test('a white-space-only value is reported as empty, naming the JSON field', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ key: ' \n ' }) });
    const e = await failure(source({ JsonField: 'key' }));
    expect(e.code).toBe('MaterialSource');
    expect(e.message).toBe(`the value of secret ${SECRET_ARN} field 'key' is empty`);
  });

  test('an empty whole-string value is reported as empty without a field', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '' });
    await expect(failure(source())).resolves.toMatchObject({ code: 'MaterialSource', message: `the value of secret ${SECRET_ARN} is empty` });
  });

  test('a JSON field is read and decoded with the encoding', async () => {
    const material = randomBytes(32);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ other: 'x', key: material.toString('hex') }) });
    await expect(readSecretMaterial(source({ JsonField: 'key', Encoding: 'HEX' }), 'SYMMETRIC_DEFAULT')).resolves.toEqual(material);
  });

  test('a jsonField on a value that is not JSON is refused without quoting the value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'c2VjcmV0LW1hdGVyaWFs' });
    const e = await failure(source({ JsonField: 'key' }));
    expect(e.code).toBe('MaterialSource');
    expect(e.message).toBe(`secret ${SECRET_ARN} is not a JSON object, but jsonField 'key' was given; store {"key": "..."} or drop jsonField`);
    expect(e.message).not.toContain('c2VjcmV0');
  });

  test.each([
    ['a number', '42'],
    ['null', 'null'],
    ['an array', '["a","b"]'],
    ['a string', '"AAAA"'],
  ])('a jsonField on JSON that is %s is refused: it has no fields', async (_what, value) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: value });
    const e = await failure(source({ JsonField: 'key' }));
    expect(e.code).toBe('MaterialSource');
    expect(e.message).toBe(`secret ${SECRET_ARN} is JSON but not an object, so it has no field 'key'`);
  });

  test('a missing field counts the fields the object has, but names neither them nor their values (a name may be the material)', async () => {
    const material = 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=';
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ [material]: 'key', comment: 'hidden-value' }) });
    const e = await failure(source({ JsonField: 'key' }));
    expect(e.message).toBe(`secret ${SECRET_ARN} has no field 'key' (it has 2 fields, none named so; field names are not shown because they are part of the secret's value)`);
    expect(e.message).not.toContain(material);
    expect(e.message).not.toContain('comment');
  });

  test('a missing field of an empty object says it has 0 fields', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    await expect(failure(source({ JsonField: 'key' }))).resolves.toMatchObject({ message: expect.stringContaining(`has no field 'key' (it has 0 fields,`) });
  });

  test.each([
    ['number', 12345],
    ['object', { nested: 'AAAA' }],
    ['boolean', true],
  ])('a field that is a %s, not a string, is refused with its type', async (type, value) => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ key: value }) });
    const e = await failure(source({ JsonField: 'key' }));
    expect(e.code).toBe('MaterialSource');
    expect(e.message).toBe(`secret ${SECRET_ARN} field 'key' is a ${type}, not a string`);
  });

  test('a field that is JSON null is reported as null, not as an object (which typeof says)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"key":null}' });
    await expect(failure(source({ JsonField: 'key' }))).resolves.toMatchObject({ message: `secret ${SECRET_ARN} field 'key' is a null, not a string` });
  });
});

describe('prepareSecretsManagerSource', () => {
  test('wraps the checked material and zeroes it on close', async () => {
    const material = randomBytes(32);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: material.toString('base64') });
    let seen: Buffer | undefined;
    const spy = jest.spyOn(wrap, 'wrapKeyMaterial').mockImplementation((m) => { seen = m; return Buffer.from('wrapped'); });
    try {
      const prepared = await prepareSecretsManagerSource(source(), CTX);
      expect(prepared.wrap(new Uint8Array([1]), 'RSAES_OAEP_SHA_256')).toEqual(Buffer.from('wrapped'));
      expect(seen).toEqual(material);
      await prepared.close();
      expect(seen!.every((b) => b === 0)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  test('material of the wrong length is refused at wrap time, naming the secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: randomBytes(16).toString('base64') });
    const prepared = await prepareSecretsManagerSource(source(), CTX);
    expect(() => prepared.wrap(new Uint8Array([1]), 'RSAES_OAEP_SHA_256')).toThrow(`the material in secret ${SECRET_ARN} is 16 bytes`);
  });
});
