import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readSecret, secretText, writeSecret } from '../../lambda/secret';
import { failure } from './failure';

/**
 * The handler's one Secrets Manager reader and writer (material, HSM PIN, offline parameters and
 * wrapped material all use it): what each Secrets Manager error becomes, and that a value is
 * never echoed.
 */

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:byok-AbCdEf';
const named = (name: string, message?: string) => Object.assign(new Error(message), { name, message });

beforeEach(() => secrets.reset());

describe('readSecret', () => {
  test('reads in the secret\'s own region, passing a pinned version and stage, and names the secret with its version', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'text' });
    await expect(readSecret({ arn: ARN, versionId: 'v-7', versionStage: 'AWSPREVIOUS' })).resolves.toEqual({ name: `secret ${ARN} (version v-7)`, text: 'text' });
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ARN, VersionId: 'v-7', VersionStage: 'AWSPREVIOUS' });
    const client = secrets.commandCalls(GetSecretValueCommand)[0].thisValue as SecretsManagerClient;
    await expect(client.config.region()).resolves.toBe('eu-central-1');
  });

  test('a SecretBinary is copied and the SDK\'s buffer zeroed', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: bytes });
    const value = await readSecret({ arn: ARN });
    expect(value.binary).toEqual(Buffer.from([1, 2, 3]));
    expect(value.text).toBeUndefined();
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  test('a secret with neither a string nor a binary value is a MaterialSource error', async () => {
    secrets.on(GetSecretValueCommand).resolves({});
    await expect(failure(readSecret({ arn: ARN, role: 'the HSM PIN secret' }))).resolves.toMatchObject({ code: 'MaterialSource', message: `the HSM PIN secret ${ARN} has no value` });
  });

  test('an ARN that is not a secret\'s is refused before any call, naming the role', async () => {
    await expect(failure(readSecret({ arn: 'hsm/pin', role: 'the HSM PIN secret' }))).resolves.toMatchObject({ code: 'MaterialSource', message: "'hsm/pin' is not a Secrets Manager secret ARN (the HSM PIN secret)" });
    expect(secrets).not.toHaveReceivedAnyCommand();
  });
});

describe('Secrets Manager errors', () => {
  test.each([
    ['ResourceNotFoundException', 'MaterialSource', `secret ${ARN} (version v-3) was not found; check that it exists in that region and account (and the version, if pinned)`],
    ['AccessDeniedException', 'AccessDenied', `the import handler may not read secret ${ARN} (version v-3): not authorized; check the secret's resource policy and, for a customer managed key, its key policy`],
    ['DecryptionFailure', 'AccessDenied', `Secrets Manager could not decrypt secret ${ARN} (version v-3) with its KMS key; allow the import handler kms:Decrypt on that key`],
    ['InternalServiceError', 'AwsError', `InternalServiceError from Secrets Manager reading secret ${ARN} (version v-3): not authorized`],
  ])('GetSecretValue failing with %s is %s', async (name, code, message) => {
    secrets.on(GetSecretValueCommand).rejects(named(name, 'not authorized'));
    await expect(failure(readSecret({ arn: ARN, versionId: 'v-3' }))).resolves.toMatchObject({ code, message });
  });

  test.each([
    'You can\'t perform this operation on the secret because it was marked for deletion.',
    'You can\'t access a secret from a different AWS account if you encrypt the secret with the default KMS service key.',
  ])('InvalidRequestException passes Secrets Manager\'s message on as it is: %s', async (message) => {
    secrets.on(GetSecretValueCommand).rejects(named('InvalidRequestException', message));
    await expect(failure(readSecret({ arn: ARN }))).resolves.toMatchObject({ code: 'MaterialSource', message: `secret ${ARN} cannot be read: ${message}` });
  });

  test('an InvalidRequestException object without a message says invalid request', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => Promise.reject({ name: 'InvalidRequestException' }));
    await expect(failure(readSecret({ arn: ARN }))).resolves.toMatchObject({ message: `secret ${ARN} cannot be read: invalid request (is it scheduled for deletion?)` });
  });

  test('an AccessDeniedException object without a message says access denied', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => Promise.reject({ name: 'AccessDeniedException' }));
    await expect(failure(readSecret({ arn: ARN }))).resolves.toMatchObject({ code: 'AccessDenied', message: expect.stringMatching(/^the import handler may not read secret .*: access denied; check the secret's resource policy/) });
  });

  test('a thrown non-Error value is reported without a message', async () => {
    secrets.on(GetSecretValueCommand).callsFake(() => Promise.reject('socket hang up'));
    await expect(failure(readSecret({ arn: ARN }))).resolves.toMatchObject({ code: 'AwsError', message: `Error from Secrets Manager reading secret ${ARN}` });
  });

  test.each([
    ['AccessDeniedException', 'AccessDenied', `the import handler may not write secret ${ARN}: denied; check the secret's resource policy and, for a customer managed key, its key policy`],
    ['EncryptionFailure', 'AccessDenied', `Secrets Manager could not encrypt secret ${ARN} with its KMS key; allow the import handler kms:GenerateDataKey on that key`],
    ['InvalidRequestException', 'MaterialSource', `secret ${ARN} cannot be written: denied`],
    ['LimitExceededException', 'AwsError', `LimitExceededException from Secrets Manager writing secret ${ARN}: denied`],
  ])('PutSecretValue failing with %s is %s, said as a write', async (name, code, message) => {
    secrets.on(PutSecretValueCommand).rejects(named(name, 'denied'));
    await expect(failure(writeSecret({ arn: ARN }, '{}'))).resolves.toMatchObject({ code, message });
  });

  test('writeSecret puts the text as the new value', async () => {
    secrets.on(PutSecretValueCommand).resolves({});
    await writeSecret({ arn: ARN }, '{"a":1}');
    expect(secrets).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: ARN, SecretString: '{"a":1}' });
  });
});

describe('secretText', () => {
  test('a SecretBinary is read as UTF-8', () => {
    expect(secretText({ name: 'n', binary: Buffer.from('1234') })).toBe('1234');
  });

  test('a field of a JSON value is named with the option that asked for it, and the value is not echoed', () => {
    expect(() => secretText({ name: 'n', text: 'not json AAAA' }, { name: 'pin', option: 'pinJsonField' })).toThrow("n is not a JSON object, but pinJsonField 'pin' was given; store {\"pin\": \"...\"} or drop pinJsonField");
    expect(() => secretText({ name: 'n', text: 'not json AAAA' }, { name: 'pin', option: 'pinJsonField' })).not.toThrow(/AAAA/);
  });

  test('white space only is empty, naming the field', () => {
    expect(() => secretText({ name: 'n', text: '{"pin":" "}' }, { name: 'pin', option: 'pinJsonField' })).toThrow("the value of n field 'pin' is empty");
  });
});
