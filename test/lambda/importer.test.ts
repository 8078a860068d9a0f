import { generateKeyPairSync, randomBytes } from 'crypto';
import {
  DeleteImportedKeyMaterialCommand, DescribeKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand,
  IncorrectKeyMaterialException, InvalidImportTokenException, KMSClient, KMSInvalidStateException, RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { describeKeyFollowsCalls } from './kms-state';
import { ImportResourceProperties } from '../../lib/private/contract';
import * as wrap from '../../lambda/wrap';
import { create, remove, renew, update } from '../../lambda/importer';

const kms = mockClient(KMSClient);
const secrets = mockClient(SecretsManagerClient);
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:byok-AbCdEf';
const wrappingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

const props = (overrides: Partial<ImportResourceProperties> = {}): ImportResourceProperties => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:111122223333:function:f',
  KeyArn: KEY_ARN, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT',
  WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048',
  Material: { Type: 'SecretsManager', SecretArn: SECRET_ARN, Encoding: 'BASE64' },
  Expiration: { Model: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
  ...overrides,
});

beforeEach(() => {
  kms.reset();
  secrets.reset();
  kms.on(GetParametersForImportCommand).resolves({ KeyId: KEY_ARN, ImportToken: Buffer.from('token'), PublicKey: wrappingKey.publicKey.export({ type: 'spki', format: 'der' }) });
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
});

describe('renew', () => {
  test('re-imports the same material with a fresh ValidTo', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    await renew(props({ Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: String(30 * 86400) } }), { now: () => now });
    expect(kms).toHaveReceivedCommandWith(ImportKeyMaterialCommand, { ValidTo: new Date('2027-01-31T00:00:00Z'), ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    expect(kms.commandCalls(ImportKeyMaterialCommand)[0].args[0].input.ImportType).toBeUndefined();
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
