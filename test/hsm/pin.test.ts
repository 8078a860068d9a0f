import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Pkcs11SourceProperties } from '../../lib/private/contract';
import { readPin } from '../../lambda/sources/pkcs11/pin';

/** Reading the HSM PIN from Secrets Manager: what each failure says, and that no value is echoed. */

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:hsm/pin-AbCdEf';
const source = (overrides: Partial<Pkcs11SourceProperties> = {}): Pkcs11SourceProperties => ({
  Type: 'Pkcs11', ModulePath: '/opt/lib.so', TokenLabel: 't', PinSecretArn: ARN, KeyLabel: 'k', ...overrides,
});
const named = (name: string) => Object.assign(new Error(`${name} message`), { name });

beforeEach(() => secrets.reset());

test('the whole SecretString, or a SecretBinary as UTF-8, is the PIN', async () => {
  secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'user:pass' }).resolvesOnce({ SecretBinary: Buffer.from('1234\r\n') });
  expect(await readPin(source())).toBe('user:pass');
  expect(await readPin(source())).toBe('1234');
  expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ARN });
});

test.each([
  [named('AccessDeniedException'), 'AccessDenied', `the import handler may not read the HSM PIN secret ${ARN}`],
  [named('DecryptionFailure'), 'AccessDenied', 'allow the import handler kms:Decrypt on that key'],
])('%s from Secrets Manager becomes %s', async (error, code, message) => {
  secrets.on(GetSecretValueCommand).rejects(error);
  await expect(readPin(source())).rejects.toMatchObject({ code, message: expect.stringContaining(message) });
});

test('other errors are AwsError, with their name and message, as for any secret (the SDK retried them already)', async () => {
  secrets.on(GetSecretValueCommand).rejects(named('InternalServiceError'));
  await expect(readPin(source())).rejects.toMatchObject({ code: 'AwsError', message: `InternalServiceError from Secrets Manager reading the HSM PIN secret ${ARN}: InternalServiceError message` });
});

test('a PIN secret ARN that is not one is refused before any call', async () => {
  await expect(readPin(source({ PinSecretArn: 'hsm/pin' }))).rejects.toThrow("'hsm/pin' is not a Secrets Manager secret ARN (the HSM PIN secret)");
  expect(secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
});

test.each([
  ['not json {', "is not a JSON object, but pinJsonField 'pin' was given"],
  ['{"other":"x"}', "has no field 'pin' (it has 1 field, none named so"],
  ['["x"]', "is JSON but not an object, so it has no field 'pin'"],
])('a JSON field that cannot be read is named, and the value is not echoed: %s', async (value, message) => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: value });
  const error = await readPin(source({ PinJsonField: 'pin' })).catch((e) => e);
  expect(error.message).toContain(message);
  expect(error.message).not.toContain(value);
});

test('an empty or missing value is refused', async () => {
  secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: '\n' }).resolvesOnce({});
  await expect(readPin(source())).rejects.toThrow(`the HSM PIN secret ${ARN} is empty`);
  await expect(readPin(source())).rejects.toThrow(`the HSM PIN secret ${ARN} has no value`);
});
