import { generateKeyPairSync } from 'crypto';
import { GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { describeKeyFollowsCalls } from './kms-state';
import { ImportResourceProperties, OfflineWrapSourceProperties, PublishedImportParameters } from '../../lib/private/contract';
import { create, update } from '../../lambda/importer';
import { failure } from './failure';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PARAMS_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:offline-params-AbCdEf';
const WRAPPED_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:offline-wrapped-GhIjKl';
const wrappingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY = wrappingKey.publicKey.export({ type: 'spki', format: 'der' });
const NOW = new Date('2027-03-01T12:00:00Z');
const TOKEN_VALID_TO = new Date('2027-03-02T12:00:00Z');
const WRAPPED = Buffer.from('wrapped-key-material-bytes');

const phase1: OfflineWrapSourceProperties = { Type: 'OfflineWrap', ParametersSecretArn: PARAMS_ARN };
const phase2: OfflineWrapSourceProperties = { Type: 'OfflineWrap', ParametersSecretArn: PARAMS_ARN, WrappedSecretArn: WRAPPED_ARN, WrappedVersionId: 'v-9' };

const props = (material: OfflineWrapSourceProperties, overrides: Partial<ImportResourceProperties> = {}): ImportResourceProperties => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:f',
  KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048',
  Material: material, Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  ...overrides,
});

const published = (overrides: Partial<PublishedImportParameters> = {}): PublishedImportParameters => ({
  keyArn: KEY_ARN, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048',
  publicKey: PUBLIC_KEY.toString('base64'), publicKeyPem: '-----BEGIN PUBLIC KEY-----', importToken: Buffer.from('published-token').toString('base64'),
  parametersValidTo: TOKEN_VALID_TO.toISOString(),
  ...overrides,
});

const ctx = { now: () => NOW };
const named = (name: string, message = '') => Object.assign(new Error(message), { name });

beforeEach(() => {
  kms.reset();
  secrets.reset();
  kms.on(GetParametersForImportCommand).resolves({ KeyId: KEY_ARN, ImportToken: Buffer.from('fresh-token'), PublicKey: PUBLIC_KEY, ParametersValidTo: TOKEN_VALID_TO });
  kms.on(ImportKeyMaterialCommand).resolves({ KeyId: KEY_ARN, KeyMaterialId: 'f'.repeat(64) });
  describeKeyFollowsCalls(kms);
  secrets.on(PutSecretValueCommand).resolves({});
  secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves({ SecretString: JSON.stringify(published()) });
  secrets.on(GetSecretValueCommand, { SecretId: WRAPPED_ARN }).resolves({ SecretString: WRAPPED.toString('base64') });
});

describe('offline wrap, phase 1', () => {
  test('publishes the wrapping public key (DER and PEM), the token and its expiry to the parameters secret, and imports nothing', async () => {
    const log = jest.fn();
    const result = await create(props(phase1), { ...ctx, log });
    expect(kms).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: KEY_ARN, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
    const put = secrets.commandCalls(PutSecretValueCommand);
    expect(put).toHaveLength(1);
    expect(put[0].args[0].input.SecretId).toBe(PARAMS_ARN);
    const body = JSON.parse(put[0].args[0].input.SecretString!);
    expect(body).toEqual({
      keyArn: KEY_ARN, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048',
      publicKey: PUBLIC_KEY.toString('base64'),
      publicKeyPem: wrappingKey.publicKey.export({ type: 'spki', format: 'pem' }),
      importToken: Buffer.from('fresh-token').toString('base64'),
      parametersValidTo: TOKEN_VALID_TO.toISOString(),
    });
    expect(result).toEqual({ physicalResourceId: KEY_ARN, data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: '', ValidTo: '', ParametersValidTo: TOKEN_VALID_TO.toISOString() } });
    expect(log).toHaveBeenCalledWith('published import parameters', { keyArn: KEY_ARN, parametersValidTo: TOKEN_VALID_TO.toISOString() });
  });

  test('without a clock in the context, phase 1 still publishes (the current time is used)', async () => {
    const result = await create(props(phase1), {});
    expect(result.data.ParametersValidTo).toBe(TOKEN_VALID_TO.toISOString());
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: PARAMS_ARN });
  });

  test('an expiring material is given no ValidTo in phase 1, so a past date does not fail it', async () => {
    const result = await create(props(phase1, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' } }), ctx);
    expect(result.data.ValidTo).toBe('');
    expect(secrets).toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('a parameters secret that cannot be written is an AccessDenied error naming it and the cause', async () => {
    secrets.on(PutSecretValueCommand).rejects(named('AccessDeniedException', 'not authorized to perform secretsmanager:PutSecretValue'));
    const e = await failure(create(props(phase1), ctx));
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe(`the import handler may not write secret ${PARAMS_ARN}: not authorized to perform secretsmanager:PutSecretValue; check the secret's resource policy and, for a customer managed key, its key policy`);
  });

  test('a parameters secret ARN of another service is refused', async () => {
    const e = await failure(create(props({ ...phase1, ParametersSecretArn: 'arn:aws:ssm:us-east-1:111122223333:parameter/p' }), ctx));
    expect(e.message).toBe("'arn:aws:ssm:us-east-1:111122223333:parameter/p' is not a Secrets Manager secret ARN");
    expect(secrets).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(kms).not.toHaveReceivedCommand(GetParametersForImportCommand);
  });

  test('a KMS error getting the parameters is mapped like any KMS error', async () => {
    kms.on(GetParametersForImportCommand).rejects(named('KMSInvalidStateException', 'pending deletion'));
    await expect(failure(create(props(phase1), ctx))).resolves.toMatchObject({ code: 'KeyState', message: expect.stringMatching(/^key .* is in a state that does not allow the import: pending deletion/) });
  });
});

describe('offline wrap, phase 2', () => {
  test('into a symmetric multi-Region replica imports as EXISTING_KEY_MATERIAL (a replica only takes its primary\'s material)', async () => {
    await create(props(phase2, { Replica: 'true' }), ctx);
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: KEY_ARN, ImportType: 'EXISTING_KEY_MATERIAL' });
  });

  test('into a primary key leaves the ImportType to KMS', async () => {
    await create(props(phase2), ctx);
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBeUndefined();
  });

  test('imports the base64 blob with the published token, reading the pinned version of the wrapped secret', async () => {
    const log = jest.fn();
    const result = await create(props(phase2), { ...ctx, log });
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: WRAPPED_ARN, VersionId: 'v-9' });
    expect(kms).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, {
      KeyId: KEY_ARN, ImportToken: Buffer.from('published-token'), EncryptedKeyMaterial: WRAPPED, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    });
    expect(result.data).toEqual({ KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: 'f'.repeat(64), ValidTo: '' });
    expect(log).toHaveBeenCalledWith('imported key material', { keyArn: KEY_ARN, keyMaterialId: 'f'.repeat(64), validTo: undefined });
  });

  test('a wrapped SecretBinary is imported as is', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: WRAPPED_ARN }).resolves({ SecretBinary: new Uint8Array(WRAPPED) });
    await create(props(phase2), ctx);
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { EncryptedKeyMaterial: WRAPPED });
  });

  test('an expiring material is imported with its ValidTo', async () => {
    const result = await create(props(phase2, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '86400' } }), ctx);
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date('2027-03-02T12:00:00Z') });
    expect(result.data.ValidTo).toBe('2027-03-02T12:00:00.000Z');
  });

  test('an absolute expiry that has passed fails phase 2 before reading anything', async () => {
    await expect(failure(create(props(phase2, { Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: '2027-01-01T00:00:00Z' } }), ctx))).resolves.toMatchObject({ code: 'Expiration' });
    expect(secrets).not.toHaveReceivedAnyCommand();
  });

  test('parameters published for another key are refused, saying to run phase 1 again, without echoing the secret\'s text', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves({ SecretString: JSON.stringify(published({ keyArn: 'arn:aws:kms:us-east-1:111122223333:key/other-SECRET-TEXT' })) });
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('ImportToken');
    expect(e.message).toMatch(new RegExp(`^secret ${PARAMS_ARN} holds import parameters for another key, not for ${KEY_ARN}; deploy phase 1 again`));
    expect(e.message).not.toContain('SECRET-TEXT');
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('a published token whose expiry is not a date is refused before ImportKeyMaterial', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves({ SecretString: JSON.stringify(published({ parametersValidTo: 'soon' })) });
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('ImportToken');
    expect(e.message).toMatch(new RegExp(`^secret ${PARAMS_ARN} has no valid parametersValidTo; deploy phase 1 again`));
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['wrapping algorithm', { wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }, 'RSA_AES_KEY_WRAP_SHA_256'],
    ['wrapping key spec', { wrappingKeySpec: 'RSA_4096' }, 'RSA_4096'],
    ['text as wrapping algorithm', { wrappingAlgorithm: 'SECRET-TEXT' }, 'SECRET-TEXT'],
  ])('parameters published for another %s are refused without echoing the published value', async (_what, changed, publishedValue) => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves({ SecretString: JSON.stringify(published(changed)) });
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('ImportToken');
    expect(e.message).toMatch(new RegExp(`^the parameters published in secret ${PARAMS_ARN} are for another wrapping algorithm or wrapping key spec than the key is now configured for \\(RSAES_OAEP_SHA_256/RSA_2048\\); deploy phase 1 again`));
    expect(e.message).not.toContain(publishedValue);
  });

  test.each([
    ['has passed', '2027-03-01T11:59:59.000Z'],
    ['is now', NOW.toISOString()],
  ])('a published token whose expiry %s is refused before ImportKeyMaterial', async (_what, parametersValidTo) => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves({ SecretString: JSON.stringify(published({ parametersValidTo })) });
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('ImportToken');
    expect(e.message).toMatch(new RegExp(`^the import token published in secret ${PARAMS_ARN} expired at ${parametersValidTo} \\(KMS tokens are valid for 24 hours\\)`));
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test.each([
    ['not JSON', { SecretString: 'not json' }],
    ['the phase-1 placeholder', { SecretString: '{}' }],
    ['without a token', { SecretString: JSON.stringify({ ...published(), importToken: '' }) }],
    ['a SecretBinary', { SecretBinary: new Uint8Array([1, 2]) }],
  ])('a parameters secret that is %s holds no parameters: deploy phase 1 first', async (_what, value) => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).resolves(value);
    await expect(failure(create(props(phase2), ctx))).resolves.toMatchObject({
      code: 'ImportToken', message: `secret ${PARAMS_ARN} holds no import parameters; deploy phase 1 (without wrappedMaterial) first`,
    });
  });

  test.each([
    ['text that is not base64 (white space is not counted)', 'not base64!', 10],
    ['an empty string', '', 0],
  ])('a wrapped secret holding %s is a MaterialEncoding error with its length only', async (_what, value, length) => {
    secrets.on(GetSecretValueCommand, { SecretId: WRAPPED_ARN }).resolves({ SecretString: value });
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('MaterialEncoding');
    expect(e.message).toBe(`the wrapped material in secret ${WRAPPED_ARN} (version v-9) is not valid base64 (${length} characters after removing white space); store it base64-encoded (as 'openssl rand -base64 32' or 'base64' prints it)`);
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a wrapped secret with neither a string nor a binary value is a MaterialSource error', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: WRAPPED_ARN }).resolves({});
    await expect(failure(create(props(phase2), ctx))).resolves.toMatchObject({ code: 'MaterialSource', message: `secret ${WRAPPED_ARN} (version v-9) has no value` });
  });

  test('the secrets are read through the one reader: a wrapped secret the handler may not read is an AccessDenied error naming its version', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: WRAPPED_ARN }).rejects(named('AccessDeniedException', 'denied'));
    await expect(failure(create(props(phase2), ctx))).resolves.toMatchObject({ code: 'AccessDenied', message: `the import handler may not read secret ${WRAPPED_ARN} (version v-9): denied; check the secret's resource policy and, for a customer managed key, its key policy` });
  });

  test('a parameters secret that does not exist is a MaterialSource error', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: PARAMS_ARN }).rejects(named('ResourceNotFoundException', 'not found'));
    await expect(failure(create(props(phase2), ctx))).resolves.toMatchObject({ code: 'MaterialSource', message: `secret ${PARAMS_ARN} was not found; check that it exists in that region and account (and the version, if pinned)` });
  });

  test.each([
    ['ExpiredImportTokenException', `KMS says the import token published in secret ${PARAMS_ARN} has expired; deploy phase 1 again`, 'ImportToken'],
    ['InvalidImportTokenException', `KMS refused the import token published in secret ${PARAMS_ARN}: it was already used (every import needs a new wrap) or belongs to another key; deploy phase 1 again`, 'ImportToken'],
    ['InvalidCiphertextException', `KMS could not unwrap the material in secret ${WRAPPED_ARN} with the published wrapping key: wrap it with RSAES_OAEP_SHA_256 under the public key in secret ${PARAMS_ARN}`, 'MaterialFormat'],
  ])('ImportKeyMaterial failing with %s says what to do, without retrying with fresh parameters', async (name, message, code) => {
    kms.on(ImportKeyMaterialCommand).rejects(named(name, 'x'));
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe(code);
    expect(e.message.startsWith(message)).toBe(true);
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 1);
    expect(kms).not.toHaveReceivedCommand(GetParametersForImportCommand);
  });

  test('other material refused by KMS is a mismatch naming the wrapped secret', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(named('IncorrectKeyMaterialException', 'not the same'));
    const e = await failure(create(props(phase2), ctx));
    expect(e.code).toBe('MaterialMismatch');
    expect(e.message).toBe(`KMS refused the material from the wrapped material in secret ${WRAPPED_ARN} for key ${KEY_ARN}: not the same. A key holds the material first imported into it; the key keeps that material. Point the secret (version) back at it, or create a new ExternalKey for new material`);
  });

  test('a new wrapped version is imported on update', async () => {
    await update(props({ ...phase2, WrappedVersionId: 'v-10' }), props(phase2), ctx);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: WRAPPED_ARN, VersionId: 'v-10' });
    expect(kms).toHaveReceivedCommand(ImportKeyMaterialCommand);
  });
});
