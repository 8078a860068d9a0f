import { generateKeyPairSync, randomBytes } from 'crypto';
import {
  DeleteImportedKeyMaterialCommand, DescribeKeyCommand, ExpiredImportTokenException, GetParametersForImportCommand, ImportKeyMaterialCommand,
  IncorrectKeyMaterialException, InvalidImportTokenException, KMSClient, KMSInvalidStateException, RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { describeKeyFollowsCalls } from './kms-state';
import { ImportResourceProperties } from '../../lib/private/contract';
import { ImportError } from '../../lambda/errors';
import { create, remove, renew, update, validToFor } from '../../lambda/importer';
import * as materialModule from '../../lambda/material';
import * as wrap from '../../lambda/wrap';
import { failure } from './failure';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf';
const wrappingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_KEY = wrappingKey.publicKey.export({ type: 'spki', format: 'der' });

const props = (overrides: Partial<ImportResourceProperties> = {}): ImportResourceProperties => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:f',
  KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048',
  Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64' },
  Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  ...overrides,
});

/** An error as the SDK throws it: an Error with the exception's name. */
const kmsException = (name: string, message = '') => Object.assign(new Error(message), { name });

/** Captures the decoded material buffers, to check that they are zeroed. */
function captureMaterial(): { buffers: Buffer[]; restore: () => void } {
  const buffers: Buffer[] = [];
  const original = materialModule.decodeText;
  const spy = jest.spyOn(materialModule, 'decodeText').mockImplementation((...args) => {
    const b = original(...args);
    buffers.push(b);
    return b;
  });
  return { buffers, restore: () => spy.mockRestore() };
}

beforeEach(() => {
  kms.reset();
  secrets.reset();
  kms.on(GetParametersForImportCommand).resolves({ KeyId: KEY_ARN, ImportToken: Buffer.from('token'), PublicKey: PUBLIC_KEY });
  kms.on(ImportKeyMaterialCommand).resolves({ KeyId: KEY_ARN, KeyMaterialId: 'a'.repeat(64) });
  describeKeyFollowsCalls(kms);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: randomBytes(32).toString('base64') });
});

describe('create', () => {
  test('asks for parameters and the secret, then imports with an explicit expiration model', async () => {
    const result = await create(props(), {});
    expect(kms).toHaveReceivedCommandWith(GetParametersForImportCommand, { KeyId: KEY_ARN, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' });
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN });
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: KEY_ARN, ImportToken: Buffer.from('token'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ValidTo).toBeUndefined();
    expect(result).toEqual({ physicalResourceId: KEY_ARN, data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: 'a'.repeat(64), ValidTo: '' } });
  });

  test('GetParametersForImport and GetSecretValue are in flight at the same time', async () => {
    let inFlight = 0; let maxInFlight = 0;
    const slow = <T>(value: T) => async () => { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); await new Promise((r) => setTimeout(r, 30)); inFlight--; return value; };
    kms.on(GetParametersForImportCommand).callsFake(slow({ ImportToken: Buffer.from('t'), PublicKey: wrappingKey.publicKey.export({ type: 'spki', format: 'der' }) }));
    secrets.on(GetSecretValueCommand).callsFake(slow({ SecretString: randomBytes(32).toString('base64') }));
    await create(props(), {});
    expect(maxInFlight).toBe(2);
  });

  test('a relative expiry becomes ValidTo = now + validity', async () => {
    const now = new Date('2026-11-23T00:00:00Z');
    await create(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '86400' } }), { now: () => now });
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date('2026-11-24T00:00:00Z') });
  });

  test('an absolute expiry that has passed fails before any import', async () => {
    await expect(create(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00.000Z' } }), {})).rejects.toThrow(/the expiration date 2020-01-01T00:00:00.000Z has passed/);
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('material of the wrong length fails before ImportKeyMaterial, naming the lengths', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: randomBytes(16).toString('base64') });
    await expect(create(props(), {})).rejects.toThrow(`the material in secret ${SECRET_ARN} is 16 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes`);
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('the material buffer and the SecretBinary are zeroed after wrapping', async () => {
    const secretBinary = new Uint8Array(randomBytes(32));
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: secretBinary });
    const seen: Buffer[] = [];
    const original = wrap.wrapKeyMaterial;
    const spy = jest.spyOn(wrap, 'wrapKeyMaterial').mockImplementation((material, pub, alg) => {
      seen.push(material);
      expect(material.some((b) => b !== 0)).toBe(true);
      return original(material, pub, alg);
    });
    try {
      await create(props({ Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BINARY' } }), {});
    } finally {
      spy.mockRestore();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0].every((b) => b === 0)).toBe(true);
    expect(secretBinary.every((b) => b === 0)).toBe(true);
  });

  test('a refused import token (a lost response retried by the SDK) starts over with fresh parameters', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(new InvalidImportTokenException({ message: '', $metadata: {} }))
      .resolves({ KeyId: KEY_ARN, KeyMaterialId: 'c'.repeat(64) });
    const result = await create(props(), {});
    expect(kms).toHaveReceivedCommandTimes(GetParametersForImportCommand, 2);
    expect(result.data.KeyMaterialId).toBe('c'.repeat(64));
  });

  test('different material is reported as a mismatch that keeps the key\'s material', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(new IncorrectKeyMaterialException({ message: 'not the same key material', $metadata: {} }));
    await expect(create(props(), {})).rejects.toThrow(/KMS refused the material from secret .* the key keeps that material/);
  });

  test('a missing secret is named in the error', async () => {
    secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }));
    await expect(create(props(), {})).rejects.toThrow(`secret ${SECRET_ARN} was not found`);
  });

  test('access denied on the secret names the secret and where to look', async () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::111122223333:assumed-role/r is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
    secrets.on(GetSecretValueCommand).rejects(denied);
    await expect(create(props(), {})).rejects.toThrow(/^the import handler may not read secret .*: User: .* is not authorized .*; check the secret's resource policy and, for a customer managed key, its key policy$/);
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('access denied on the key names the key and the key policy', async () => {
    kms.on(GetParametersForImportCommand).rejects(Object.assign(new Error('not authorized to perform: kms:GetParametersForImport'), { name: 'AccessDeniedException' }));
    await expect(create(props(), {})).rejects.toThrow(`the import handler is not allowed to use key ${KEY_ARN}: not authorized to perform: kms:GetParametersForImport; check the key policy`);
  });

  test('a disabled key that KMS refuses to import into says to enable it', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(Object.assign(new Error(`${KEY_ARN} is disabled.`), { name: 'DisabledException' }));
    await expect(create(props(), {})).rejects.toThrow(`key ${KEY_ARN} is disabled: ${KEY_ARN} is disabled.; enable it first`);
  });

  test('partition rules are checked against the key ARN before any call', async () => {
    await expect(create(props({ KeyArn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/k', WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256' }), {})).rejects.toThrow(/not available in the China partition/);
    expect(kms).not.toHaveReceivedAnyCommand();
  });
});

describe('update', () => {
  test('unchanged material and expiry make no call that changes state', async () => {
    describeKeyFollowsCalls(kms, 'b'.repeat(64));
    const result = await update(props(), props(), {});
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(kms).not.toHaveReceivedCommand(GetParametersForImportCommand);
    expect(result.data.KeyMaterialId).toBe('b'.repeat(64));
  });

  test('a new expiry re-imports in place', async () => {
    await update(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '3600' } }), props(), {});
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: KEY_ARN, ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
  });

  test('a pinned secret version change re-imports', async () => {
    const pinned = props({ Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64', VersionId: 'v2' } });
    await update(pinned, props(), {});
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { VersionId: 'v2' });
    expect(kms).toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a key spec change on the same key fails before any call', async () => {
    await expect(update(props({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }), props(), {})).rejects.toThrow(/\bcannot change \(SYMMETRIC_DEFAULT\/ENCRYPT_DECRYPT to HMAC_256\/GENERATE_VERIFY_MAC\)/);
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('a failed DescribeKey of an unchanged resource is mapped like any KMS error', async () => {
    kms.on(DescribeKeyCommand).rejects(kmsException('NotFoundException', 'gone'));
    await expect(failure(update(props(), props(), {}))).resolves.toMatchObject({ code: 'KeyState', message: `key ${KEY_ARN} was not found: gone` });
  });

  test('DescribeKey without metadata answers with empty material id and ValidTo', async () => {
    kms.on(DescribeKeyCommand).resolves({});
    await expect(update(props(), props(), {})).resolves.toEqual({ physicalResourceId: KEY_ARN, data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: '', ValidTo: '' } });
  });

  test('an unchanged resource whose KeyArn is not an ARN is refused', async () => {
    const bad = props({ KeyArn: 'not-an-arn' });
    await expect(failure(update(bad, bad, {}))).resolves.toMatchObject({ code: 'InvalidProperty', message: 'KeyArn \'not-an-arn\' is not a KMS key ARN' });
  });

  test('a new key ARN re-imports into the new key even with rotation on, without rotating', async () => {
    const other = 'arn:aws:kms:us-east-1:111122223333:key/other';
    await update(props({ KeyArn: other, RotateOnNewMaterial: 'true', Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64', VersionId: 'v2' } }), props({ RotateOnNewMaterial: 'true' }), {});
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { KeyId: other });
    expect(kms).not.toHaveReceivedCommand(RotateKeyOnDemandCommand);
  });
});

describe('rotation to new material', () => {
  const pinned = (v: string, rotate = true) => props({ Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64', VersionId: v }, RotateOnNewMaterial: rotate ? 'true' : undefined });

  test('material KMS calls new is imported as NEW_KEY_MATERIAL, then the key is rotated to it', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(new IncorrectKeyMaterialException({ message: 'not the same', $metadata: {} }))
      .resolves({ KeyId: KEY_ARN, KeyMaterialId: 'd'.repeat(64) });
    const result = await update(pinned('v2'), pinned('v1'), {});
    const imports = kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input.ImportType);
    expect(imports).toEqual([undefined, 'NEW_KEY_MATERIAL']);
    expect(kms).toHaveReceivedCommandWith(RotateKeyOnDemandCommand, { KeyId: KEY_ARN });
    expect(result.data.KeyMaterialId).toBe('d'.repeat(64));
  });

  test('a re-pinned version of the same material re-imports without rotating', async () => {
    await update(pinned('v2'), pinned('v1'), {});
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 1);
    expect(kms).not.toHaveReceivedCommand(RotateKeyOnDemandCommand);
  });

  test('without rotateOnNewMaterial, new material is a mismatch and nothing is rotated', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(new IncorrectKeyMaterialException({ message: 'not the same', $metadata: {} }));
    await expect(update(pinned('v2', false), pinned('v1', false), {})).rejects.toThrow(/^KMS refused the material/);
    expect(kms).not.toHaveReceivedCommand(RotateKeyOnDemandCommand);
  });

  test('a second pending rotation is refused with what to do', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(new IncorrectKeyMaterialException({ message: 'not the same', $metadata: {} }))
      .rejects(new KMSInvalidStateException({ message: `New key material (id: x) cannot be imported into KMS key ${KEY_ARN}, because another key material (id: y) is pending rotation.`, $metadata: {} }));
    await expect(update(pinned('v3'), pinned('v2'), {})).rejects.toThrow(/already has new key material pending rotation.*KMS allows one at a time/);
    expect(kms).not.toHaveReceivedCommand(RotateKeyOnDemandCommand);
  });

  test('an error other than a mismatch on the first import is not turned into a rotation', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(kmsException('AccessDeniedException', 'denied'));
    await expect(failure(update(pinned('v2'), pinned('v1'), {}))).resolves.toMatchObject({ code: 'AccessDenied' });
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 1);
    expect(kms).not.toHaveReceivedCommand(RotateKeyOnDemandCommand);
  });

  test('a failed RotateKeyOnDemand is mapped, after the new material was imported', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(new IncorrectKeyMaterialException({ message: 'not the same', $metadata: {} }))
      .resolves({ KeyId: KEY_ARN, KeyMaterialId: 'd'.repeat(64) });
    kms.on(RotateKeyOnDemandCommand).rejects(kmsException('LimitExceededException', 'rotation quota'));
    const e = await failure(update(pinned('v2'), pinned('v1'), {}));
    expect(e).toMatchObject({ code: 'Rotation', message: `key ${KEY_ARN} has reached KMS's limit of on-demand rotations: rotation quota; create a new ExternalKey for further new material` });
    expect(kms.commandCalls(ImportKeyMaterialCommand).map((c) => c.args[0].input.ImportType)).toEqual([undefined, 'NEW_KEY_MATERIAL']);
  });

  test('a successful rotation is logged with the new material id', async () => {
    kms.on(ImportKeyMaterialCommand)
      .rejectsOnce(new IncorrectKeyMaterialException({ message: 'not the same', $metadata: {} }))
      .resolves({ KeyId: KEY_ARN, KeyMaterialId: 'e'.repeat(64) });
    kms.on(RotateKeyOnDemandCommand).resolves({ KeyId: KEY_ARN });
    const log = jest.fn();
    await update(pinned('v2'), pinned('v1'), { log });
    expect(log).toHaveBeenCalledWith('rotated to new key material', { keyArn: KEY_ARN, keyMaterialId: 'e'.repeat(64) });
  });
});

describe('renew', () => {
  test('re-imports the same material with a fresh ValidTo', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    await renew(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(30 * 86400) } }), { now: () => now });
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ValidTo: new Date('2027-01-31T00:00:00Z'), ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBeUndefined();
  });

  test('a renewal of material whose absolute expiry passed fails without importing', async () => {
    await expect(failure(renew(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidTo: '2020-01-01T00:00:00Z' } }), {}))).resolves.toMatchObject({ code: 'Expiration' });
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('a renewal answers with the key, the material id and the new ValidTo, and logs the import', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const log = jest.fn();
    const result = await renew(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '3600' } }), { now: () => now, log });
    expect(result).toEqual({ physicalResourceId: KEY_ARN, data: { KeyArn: KEY_ARN, KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', KeyMaterialId: 'a'.repeat(64), ValidTo: '2027-01-01T01:00:00.000Z' } });
    expect(log).toHaveBeenCalledWith('imported key material', { keyArn: KEY_ARN, keyMaterialId: 'a'.repeat(64), validTo: '2027-01-01T01:00:00.000Z' });
  });

  test('a renewal of non-current material (after a rolled-back rotation) fails with Rotation, naming both materials', async () => {
    describeKeyFollowsCalls(kms, 'c'.repeat(64));
    const e = await failure(renew(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '3600' } }), {}));
    expect(e.code).toBe('Rotation');
    expect(e.message).toContain(`renewed material ${'a'.repeat(64)} of secret `);
    expect(e.message).toContain(`uses material ${'c'.repeat(64)}, which this renewal does not renew`);
  });
});

describe('remove', () => {
  test('leaves the material alone by default', async () => {
    await remove(props(), KEY_ARN, {});
    expect(kms).not.toHaveReceivedAnyCommand();
  });
  test('deletes the material when asked, and only for the key it imported into', async () => {
    await remove(props({ DeleteMaterialOnRemoval: 'true' }), 'import-failed-1', {});
    expect(kms).not.toHaveReceivedAnyCommand();
    await remove(props({ DeleteMaterialOnRemoval: 'true' }), KEY_ARN, {});
    expect(kms).toHaveReceivedCommandWith(DeleteImportedKeyMaterialCommand, { KeyId: KEY_ARN });
  });

  const shredding = props({ DeleteMaterialOnRemoval: 'true' });

  test.each(['NotFoundException', 'KMSInvalidStateException'])('material already gone (%s) is not an error', async (name) => {
    kms.on(DeleteImportedKeyMaterialCommand).rejects(kmsException(name, 'pending deletion'));
    await expect(remove(shredding, KEY_ARN, {})).resolves.toEqual({ physicalResourceId: KEY_ARN, data: {} });
  });

  test('any other DeleteImportedKeyMaterial error fails the delete, mapped', async () => {
    kms.on(DeleteImportedKeyMaterialCommand).rejects(kmsException('AccessDeniedException', 'not allowed'));
    await expect(failure(remove(shredding, KEY_ARN, {}))).resolves.toMatchObject({ code: 'AccessDenied', message: `the import handler is not allowed to use key ${KEY_ARN}: not allowed; check the key policy` });
  });

  test('a successful deletion is logged', async () => {
    kms.on(DeleteImportedKeyMaterialCommand).resolves({});
    const log = jest.fn();
    await remove(shredding, KEY_ARN, { log });
    expect(log).toHaveBeenCalledWith('deleted imported key material', { keyArn: KEY_ARN });
  });

  test('a delete of a KeyArn that is not an ARN is refused', async () => {
    const bad = props({ KeyArn: 'not-an-arn', DeleteMaterialOnRemoval: 'true' });
    await expect(failure(remove(bad, 'not-an-arn', {}))).resolves.toMatchObject({ code: 'InvalidProperty' });
    expect(kms).not.toHaveReceivedAnyCommand();
  });
});

describe('renew when due', () => {
  const expiring = props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(30 * 86400) } });
  const now = new Date('2027-03-01T12:00:00Z');
  // Material imported `daysAgo` days before `now`, valid for 30 days, for the due check's
  // DescribeKey; the DescribeKey after an import shows the imported material as current.
  const current = { KeyMetadata: { KeyId: 'k', CurrentKeyMaterialId: 'a'.repeat(64) } };
  const importedDaysAgo = (daysAgo: number) => kms.on(DescribeKeyCommand).resolvesOnce({ KeyMetadata: { KeyId: 'k', ValidTo: new Date(now.getTime() + (30 - daysAgo) * 86400_000) } }).resolves(current);

  test('material younger than renewAfterSeconds is left alone: no parameters asked for', async () => {
    importedDaysAgo(5);
    await expect(renew(expiring, { now: () => now }, 6 * 86400)).resolves.toBeUndefined();
    expect(kms).toHaveReceivedCommandTimes(GetParametersForImportCommand, 0);
  });

  test('material at least renewAfterSeconds old, or without a ValidTo (expired), is imported again', async () => {
    importedDaysAgo(6);
    await expect(renew(expiring, { now: () => now }, 6 * 86400)).resolves.toHaveProperty('data.KeyMaterialId', 'a'.repeat(64));
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ValidTo: new Date('2027-03-31T12:00:00Z') });
    kms.on(DescribeKeyCommand).resolvesOnce({ KeyMetadata: { KeyId: 'k', KeyState: 'PendingImport' } }).resolves(current);
    await renew(expiring, { now: () => now }, 6 * 86400);
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 2);
  });

  test('without renewAfterSeconds (a rule made by an earlier version), every event renews with no due check first', async () => {
    await renew(expiring, { now: () => now });
    // One DescribeKey, after the import, for the answer; none before it.
    expect(kms).toHaveReceivedCommandTimes(DescribeKeyCommand, 1);
    expect(kms.calls()[kms.calls().length - 1].args[0]).toBeInstanceOf(DescribeKeyCommand);
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 1);
  });
});

describe('KMS errors on ImportKeyMaterial become coded messages', () => {
  test.each([
    ['InvalidCiphertextException', 'bad ciphertext', 'AwsError', `KMS could not unwrap the material for key ${KEY_ARN} with RSAES_OAEP_SHA_256/RSA_2048: bad ciphertext`],
    ['NotFoundException', 'Key does not exist', 'KeyState', `key ${KEY_ARN} was not found: Key does not exist`],
    ['UnsupportedOperationException', 'not supported', 'KeyState', `KMS does not support this import on key ${KEY_ARN}: not supported`],
    ['LimitExceededException', 'too many rotations', 'Rotation', `key ${KEY_ARN} has reached KMS's limit of on-demand rotations: too many rotations; create a new ExternalKey for further new material`],
    ['KMSInvalidStateException', `${KEY_ARN} is pending deletion.`, 'KeyState', `key ${KEY_ARN} is in a state that does not allow the import: ${KEY_ARN} is pending deletion.; a key pending deletion must be restored with CancelKeyDeletion first`],
    ['KMSInternalException', 'internal', 'AwsError', `KMSInternalException from KMS for key ${KEY_ARN}: internal`],
  ])('%s is reported with code and remedy', async (name, message, code, expected) => {
    kms.on(ImportKeyMaterialCommand).rejects(kmsException(name, message));
    const e = await failure(create(props(), {}));
    expect(e.code).toBe(code);
    expect(e.message).toBe(expected);
  });

  test('an error without a message gets no detail suffix', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(kmsException('NotFoundException'));
    await expect(failure(create(props(), {}))).resolves.toMatchObject({ code: 'KeyState', message: `key ${KEY_ARN} was not found` });
  });

  test('a thrown value without a name is reported as Error', async () => {
    kms.on(ImportKeyMaterialCommand).callsFake(() => Promise.reject({ message: 'boom' }));
    await expect(failure(create(props(), {}))).resolves.toMatchObject({ code: 'AwsError', message: `Error from KMS for key ${KEY_ARN}: boom` });
  });

  test('an import token KMS calls invalid three times in a row gives up with an ImportToken error', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(kmsException('InvalidImportTokenException', 'invalid'));
    await expect(failure(create(props(), {}))).resolves.toMatchObject({ code: 'ImportToken', message: `KMS refused the import token for key ${KEY_ARN} (InvalidImportTokenException) even after fresh parameters; deploy again` });
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 3);
  });

  test('an import token refused three times in a row gives up with an ImportToken error', async () => {
    kms.on(ImportKeyMaterialCommand).rejects(new ExpiredImportTokenException({ message: 'expired', $metadata: {} }));
    const log = jest.fn();
    const e = await failure(create(props(), { log }));
    expect(e.code).toBe('ImportToken');
    expect(e.message).toBe(`KMS refused the import token for key ${KEY_ARN} (ExpiredImportTokenException) even after fresh parameters; deploy again`);
    expect(kms).toHaveReceivedCommandTimes(GetParametersForImportCommand, 3);
    expect(log.mock.calls.map((c) => c[1].attempt)).toEqual([1, 2]);
  });
});

describe('what is checked before any import', () => {
  test('a KeyArn of an alias, not a key, is refused before any call', async () => {
    const e = await failure(create(props({ KeyArn: 'arn:aws:kms:us-east-1:111122223333:alias/byok' }), {}));
    expect(e.code).toBe('InvalidProperty');
    expect(e.message).toBe('KeyArn \'arn:aws:kms:us-east-1:111122223333:alias/byok\' is not a KMS key ARN');
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('a KeyArn of another service is refused before any call', async () => {
    await expect(failure(create(props({ KeyArn: 'arn:aws:s3:us-east-1:111122223333:key/x' }), {}))).resolves.toMatchObject({ code: 'InvalidProperty' });
    expect(kms).not.toHaveReceivedAnyCommand();
  });

  test('GetParametersForImport without a PublicKey is an AwsError, and the material is still zeroed', async () => {
    kms.on(GetParametersForImportCommand).resolves({ ImportToken: Buffer.from('token') });
    const captured = captureMaterial();
    try {
      const e = await failure(create(props(), {}));
      expect(e).toMatchObject({ code: 'AwsError', message: 'GetParametersForImport returned no PublicKey' });
    } finally {
      captured.restore();
    }
    expect(captured.buffers).toHaveLength(1);
    expect(captured.buffers[0].every((b) => b === 0)).toBe(true);
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('GetParametersForImport with an empty ImportToken is an AwsError', async () => {
    kms.on(GetParametersForImportCommand).resolves({ ImportToken: new Uint8Array(0), PublicKey: PUBLIC_KEY });
    await expect(failure(create(props(), {}))).resolves.toMatchObject({ code: 'AwsError', message: 'GetParametersForImport returned no ImportToken' });
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });

  test('when GetParametersForImport fails but the secret was read, the material is zeroed and the KMS error reported', async () => {
    kms.on(GetParametersForImportCommand).rejects(kmsException('DisabledException', 'disabled'));
    const captured = captureMaterial();
    try {
      const e = await failure(create(props(), {}));
      expect(e).toMatchObject({ code: 'KeyState', message: `key ${KEY_ARN} is disabled: disabled; enable it first` });
    } finally {
      captured.restore();
    }
    expect(captured.buffers).toHaveLength(1);
    expect(captured.buffers[0].length).toBe(32);
    expect(captured.buffers[0].every((b) => b === 0)).toBe(true);
  });

  test('when both reads fail, the material source\'s error is the one reported', async () => {
    kms.on(GetParametersForImportCommand).rejects(kmsException('DisabledException', 'disabled'));
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    await expect(failure(create(props(), {}))).resolves.toMatchObject({ code: 'MaterialSource', message: expect.stringMatching(/^secret .* was not found/) });
  });

  test('a deadline that passed while wrapping stops before ImportKeyMaterial with a Timeout error', async () => {
    const abort = new AbortController();
    const original = wrap.wrapKeyMaterial;
    const spy = jest.spyOn(wrap, 'wrapKeyMaterial').mockImplementation((m, k, a) => { abort.abort(); return original(m, k, a); });
    try {
      const e = await failure(create(props(), { signal: abort.signal }));
      expect(e).toMatchObject({ code: 'Timeout', message: 'stopped before ImportKeyMaterial: the deadline passed' });
    } finally {
      spy.mockRestore();
    }
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });
});

describe('replicas', () => {
  test('a symmetric replica imports as EXISTING_KEY_MATERIAL', async () => {
    await create(props({ Replica: 'true' }), {});
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ImportType: 'EXISTING_KEY_MATERIAL' });
  });

  test('an HMAC replica imports without an ImportType, which exists for symmetric keys only', async () => {
    await create(props({ Replica: 'true', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }), {});
    expect(kms).toHaveReceivedCommand(ImportKeyMaterialCommand);
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBeUndefined();
  });
});

describe('validToFor', () => {
  const now = new Date('2027-06-01T00:00:00Z');
  const expiring = (e: Record<string, string>) => props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ...e } });

  test('a material that does not expire has no ValidTo', () => {
    expect(validToFor(props(), now)).toBeUndefined();
  });

  test('an unknown expiration model is an InvalidProperty error', () => {
    expect(() => validToFor(props({ Expiration: { Model: 'SOMETIMES' } }), now)).toThrow(new ImportError('InvalidProperty', 'Expiration.Model \'SOMETIMES\' is not KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE'));
  });

  test('an expiring model without ValidTo or ValidForSeconds is refused', () => {
    expect(() => validToFor(expiring({}), now)).toThrow('Expiration has model KEY_MATERIAL_EXPIRES but no valid ValidTo or ValidForSeconds');
  });

  test('a ValidTo that is not a date is refused', () => {
    expect(() => validToFor(expiring({ ValidTo: 'next tuesday' }), now)).toThrow('Expiration has model KEY_MATERIAL_EXPIRES but no valid ValidTo or ValidForSeconds');
  });

  test('a future absolute ValidTo is used as is', () => {
    expect(validToFor(expiring({ ValidTo: '2028-01-01T00:00:00Z' }), now)).toEqual(new Date('2028-01-01T00:00:00Z'));
  });

  test('a ValidTo equal to now counts as passed', () => {
    let error: ImportError | undefined;
    try {
      validToFor(expiring({ ValidTo: now.toISOString() }), now);
    } catch (e) {
      error = e as ImportError;
    }
    expect(error).toMatchObject({ code: 'Expiration', message: 'the expiration date 2027-06-01T00:00:00.000Z has passed; set a new KeyMaterialExpiration and deploy again' });
  });

  test('an absolute ValidTo is returned by the import as an ISO date', async () => {
    const result = await create(expiring({ ValidTo: '2099-01-01T00:00:00Z' }), { now: () => new Date('2098-06-01T00:00:00Z') });
    expect(result.data.ValidTo).toBe('2099-01-01T00:00:00.000Z');
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date('2099-01-01T00:00:00Z') });
  });

  test('a ValidTo more than 365 days after the import fails it with Expiration before any call (KMS would refuse it)', async () => {
    const error = await create(expiring({ ValidTo: '2099-01-01T00:00:00Z' }), { now: () => new Date('2097-12-31T00:00:00Z') }).catch((e) => e);
    expect(error).toMatchObject({ code: 'Expiration', message: 'the expiration date 2099-01-01T00:00:00.000Z is more than 365 days after this import; KMS accepts at most 365 days: set a nearer KeyMaterialExpiration and deploy again' });
    expect(kms).not.toHaveReceivedCommand(ImportKeyMaterialCommand);
  });
});

describe('the answer names the material KMS uses', () => {
  test('a rollback that re-imports the earlier material after a rotation answers with the current (newer) material, and logs the difference', async () => {
    describeKeyFollowsCalls(kms, 'c'.repeat(64));
    const log = jest.fn();
    const pinned = (v: string) => props({ Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64', VersionId: v }, RotateOnNewMaterial: 'true' });
    const result = await update(pinned('v1'), pinned('v2'), { log });
    expect(kms).toHaveReceivedCommandTimes(ImportKeyMaterialCommand, 1);
    expect(result.data.KeyMaterialId).toBe('c'.repeat(64));
    expect(log).toHaveBeenCalledWith(expect.stringContaining('KMS cannot rotate back'), { keyArn: KEY_ARN, importedKeyMaterialId: 'a'.repeat(64), currentKeyMaterialId: 'c'.repeat(64) });
  });
});
