import * as crypto from 'crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator, keyMaterialFingerprint } from '../../testing/emulator';
import { DAY, HOUR, WrappingAlgorithm, WrappingKeySpec, createExternalKey, importCommand, importMaterial, importParameters, kmsClient, kmsError, wrapMaterial } from './helpers';

let emu: KmsEmulator;
let kms: KMSClient;

beforeAll(async () => {
  emu = await KmsEmulator.start();
  kms = kmsClient(emu);
});
afterAll(async () => {
  kms.destroy();
  await emu.stop();
});

async function encryptDecrypt(keyId: string): Promise<void> {
  const plaintext = crypto.randomBytes(100);
  const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { purpose: 'test' } }));
  const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
  expect(Buffer.from(dec.Plaintext!)).toEqual(plaintext);
}

describe('a new EXTERNAL key', () => {
  test('is PendingImport with the recorded metadata shape and no expiration fields', async () => {
    const md = await createExternalKey(kms, { Description: 'byok' });
    expect(md).toMatchObject({
      AWSAccountId: '111122223333',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      Description: 'byok',
      Enabled: false,
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyState: 'PendingImport',
      KeyUsage: 'ENCRYPT_DECRYPT',
      MultiRegion: false,
      Origin: 'EXTERNAL',
    });
    expect(md.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${md.KeyId}`);
    expect(md.CreationDate).toBeInstanceOf(Date);
    expect(md.ExpirationModel).toBeUndefined();
    expect(md.ValidTo).toBeUndefined();
    expect(md.CurrentKeyMaterialId).toBeUndefined();
  });

  test('refuses Encrypt with the recorded pending-import message', async () => {
    const md = await createExternalKey(kms);
    const err = await kmsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })));
    expect(err).toEqual({ name: 'KMSInvalidStateException', message: `${md.Arn} is pending import.`, status: 400 });
  });
});

describe('GetParametersForImport', () => {
  test('returns the key ARN, a DER SPKI public key of the requested size, a 1 KB+ token and a 24-hour validity', async () => {
    const md = await createExternalKey(kms);
    const before = emu.clock.now().getTime();
    const out = await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_3072');
    expect(out.KeyId).toBe(md.Arn);
    const pub = crypto.createPublicKey({ key: Buffer.from(out.PublicKey!), format: 'der', type: 'spki' });
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(out.ImportToken!.length).toBeGreaterThanOrEqual(1024);
    const validFor = out.ParametersValidTo!.getTime() - before;
    expect(validFor).toBeGreaterThan(24 * HOUR - 5000);
    expect(validFor).toBeLessThanOrEqual(24 * HOUR + 5000);
  });

  test('hands out a different wrapping key pair on every call', async () => {
    const md = await createExternalKey(kms);
    const get = () => importParameters(kms, md.KeyId);
    const [a, b] = await Promise.all([get(), get()]);
    expect(Buffer.from(a.PublicKey!)).not.toEqual(Buffer.from(b.PublicKey!));
    expect(Buffer.from(a.ImportToken!)).not.toEqual(Buffer.from(b.ImportToken!));
  });

  test('rejects an AWS_KMS key with the recorded origin message', async () => {
    const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const err = await kmsError(importParameters(kms, md.KeyId));
    expect(err).toEqual({ name: 'UnsupportedOperationException', message: `${md.Arn} origin is AWS_KMS which is not valid for this operation.`, status: 400 });
  });

  test('rejects the retired RSAES_PKCS1_V1_5 algorithm', async () => {
    const md = await createExternalKey(kms);
    const err = await kmsError(importParameters(kms, md.KeyId, 'RSAES_PKCS1_V1_5', 'RSA_2048'));
    expect(err.name).toBe('UnsupportedOperationException');
  });

  test('rejects an alias, which the import APIs do not accept', async () => {
    const err = await kmsError(importParameters(kms, 'alias/anything'));
    expect(err.name).toBe('NotFoundException');
  });

  test('reports a bad enum value in the AWS validation wording', async () => {
    const md = await createExternalKey(kms);
    const err = await kmsError(
      kms.send(new GetParametersForImportCommand({ KeyId: md.KeyId, WrappingAlgorithm: 'RSA_OAEP' as never, WrappingKeySpec: 'RSA_2048' })),
    );
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/^1 validation error detected: Value 'RSA_OAEP' at 'wrappingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: \[/);
  });
});

describe('importing symmetric material', () => {
  const algorithms: WrappingAlgorithm[] = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'];
  const sizes: WrappingKeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096'];
  const cells = algorithms.flatMap((a) => sizes.map((s) => [a, s] as const));

  test.each(cells)('with %s and a %s wrapping key enables the key and Encrypt/Decrypt round-trips', async (algorithm, wrappingKeySpec) => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    const out = await importMaterial(kms, md.KeyId!, material, { algorithm, wrappingKeySpec });
    expect(out.KeyId).toBe(md.Arn);
    expect(out.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', CurrentKeyMaterialId: out.KeyMaterialId });
    expect(emu.inspectKey(md.KeyId!)!.materials).toEqual([
      expect.objectContaining({ sha256: crypto.createHash('sha256').update(material).digest('hex'), importState: 'IMPORTED', state: 'CURRENT' }),
    ]);
    await encryptDecrypt(md.KeyId!);
  });

  test('computes the same fingerprint as the exported helper and a per-key KeyMaterialId', async () => {
    const material = crypto.randomBytes(32);
    const a = await createExternalKey(kms);
    const b = await createExternalKey(kms);
    const idA = (await importMaterial(kms, a.KeyId!, material)).KeyMaterialId;
    const idB = (await importMaterial(kms, b.KeyId!, material)).KeyMaterialId;
    expect(idA).not.toBe(idB);
    expect(idA).toBe(crypto.createHmac('sha256', a.KeyId!).update(material).digest('hex'));
    expect(emu.inspectKey(a.Arn!)!.materials[0].sha256).toBe(keyMaterialFingerprint('SYMMETRIC_DEFAULT', material));
  });

  test('the ciphertext really depends on the imported material', async () => {
    const material = crypto.randomBytes(32);
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, material);
    const plaintext = Buffer.from('hello, byok');
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: plaintext }));
    // Decrypting the emulator's envelope by hand with the material we imported proves it used that material.
    const blob = Buffer.from(enc.CiphertextBlob!);
    const headerEnd = 14 + blob[13] + 32;
    const decipher = crypto.createDecipheriv('aes-256-gcm', material, blob.subarray(headerEnd, headerEnd + 12));
    decipher.setAAD(Buffer.concat([blob.subarray(0, headerEnd), Buffer.from('[]')]));
    decipher.setAuthTag(blob.subarray(headerEnd + 12, headerEnd + 28));
    expect(Buffer.concat([decipher.update(blob.subarray(headerEnd + 28)), decipher.final()])).toEqual(plaintext);
  });

  test('GenerateDataKey and ReEncrypt work with imported keys and the encryption context is enforced', async () => {
    const a = await createExternalKey(kms);
    const b = await createExternalKey(kms);
    await importMaterial(kms, a.KeyId!, crypto.randomBytes(32));
    await importMaterial(kms, b.KeyId!, crypto.randomBytes(32));
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: a.KeyId, KeySpec: 'AES_256', EncryptionContext: { k: 'v' } }));
    expect(dk.Plaintext!.length).toBe(32);
    const wrongContext = await kmsError(kms.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { k: 'other' } })));
    expect(wrongContext).toEqual({ name: 'InvalidCiphertextException', message: 'UnknownError', status: 400 });
    const re = await kms.send(
      new ReEncryptCommand({ CiphertextBlob: dk.CiphertextBlob, SourceEncryptionContext: { k: 'v' }, DestinationKeyId: b.KeyId }),
    );
    expect(re).toMatchObject({ SourceKeyId: a.Arn, KeyId: b.Arn });
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob }));
    expect(dec.KeyId).toBe(b.Arn);
    expect(Buffer.from(dec.Plaintext!)).toEqual(Buffer.from(dk.Plaintext!));
    const wrongKey = await kmsError(kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, KeyId: a.KeyId })));
    expect(wrongKey.name).toBe('IncorrectKeyException');
  });
});

describe('import tokens', () => {
  test('are bound to the key they were issued for', async () => {
    const a = await createExternalKey(kms);
    const b = await createExternalKey(kms);
    const params = await importParameters(kms, a.KeyId);
    const err = await kmsError(kms.send(importCommand(b.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)))));
    expect(err.name).toBe('InvalidImportTokenException');
    expect(emu.inspectKey(b.KeyId!)!.keyState).toBe('PendingImport');
  });

  test('can be used only once', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    const params = await importParameters(kms, md.KeyId);
    const send = () =>
      kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, material)));
    await send();
    expect((await kmsError(send())).name).toBe('InvalidImportTokenException');
  });

  test('sent twice at once, one import succeeds and the other finds the token spent', async () => {
    // The unwrap runs on node's thread pool, so both requests are in flight together.
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_4096');
    const request = importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)));
    const results = await Promise.allSettled([kms.send(request), kms.send(request)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason.name).toBe('InvalidImportTokenException');
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Enabled');
  });

  test('a key scheduled for deletion while its material is being unwrapped is refused', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_4096');
    const importing = kmsError(kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)))));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    expect((await importing).name).toBe('KMSInvalidStateException');
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingDeletion');
  });

  test('expire 24 hours after issue on the emulator clock', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    emu.clock.advance(24 * HOUR + 1000);
    try {
      const err = await kmsError(kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)))));
      expect(err).toMatchObject({ name: 'ExpiredImportTokenException', status: 400 });
    } finally {
      emu.clock.advance(-(24 * HOUR + 1000));
    }
  });

  test('an unknown token is InvalidImportTokenException', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    const err = await kmsError(kms.send(importCommand(md.KeyId, { ImportToken: crypto.randomBytes(1600) }, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)))));
    expect(err.name).toBe('InvalidImportTokenException');
  });
});

describe('ImportKeyMaterial validation', () => {
  let keyId: string;
  let token: Uint8Array;
  let wrapped: Buffer;
  beforeAll(async () => {
    keyId = (await createExternalKey(kms)).KeyId!;
    const params = await importParameters(kms, keyId);
    token = params.ImportToken!;
    wrapped = wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32));
  });
  const call = (extra: Partial<ConstructorParameters<typeof ImportKeyMaterialCommand>[0]>) =>
    kmsError(kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: wrapped, ...extra })));

  test('omitting both ExpirationModel and ValidTo gives the recorded validTo message', async () => {
    expect(await call({})).toEqual({ name: 'ValidationException', message: 'A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES', status: 400 });
  });

  test('DOES_NOT_EXPIRE with a ValidTo is rejected', async () => {
    expect((await call({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ValidTo: new Date(Date.now() + DAY) })).name).toBe('ValidationException');
  });

  test('a ValidTo in the past or more than 365 days ahead is rejected', async () => {
    expect((await call({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() - 60_000) })).name).toBe('ValidationException');
    expect((await call({ ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(Date.now() + 366 * DAY) })).name).toBe('ValidationException');
  });

  test('a KeyMaterialId with NEW_KEY_MATERIAL is rejected', async () => {
    expect((await call({ ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', ImportType: 'NEW_KEY_MATERIAL', KeyMaterialId: 'a'.repeat(64) })).name).toBe(
      'ValidationException',
    );
  });

  test('none of the failures spent the token', async () => {
    const ok = await kms.send(importCommand(keyId, { ImportToken: token }, wrapped));
    expect(ok.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('material checks', () => {
  test.each([16, 31, 33, 64])('%i bytes of symmetric material are IncorrectKeyMaterialException', async (n) => {
    const md = await createExternalKey(kms);
    expect((await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(n)))).name).toBe('IncorrectKeyMaterialException');
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingImport');
  });

  test('China Regions take 16-byte (SM4-sized) symmetric material, not 32', async () => {
    const cn = kmsClient(emu, 'cn-north-1');
    try {
      const md = await createExternalKey(cn);
      expect(md.Arn).toMatch(/^arn:aws-cn:kms:cn-north-1:/);
      expect((await kmsError(importMaterial(cn, md.KeyId!, crypto.randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
      // RSA_AES wrapping is not offered in China Regions.
      expect((await kmsError(importMaterial(cn, md.KeyId!, crypto.randomBytes(16), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' }))).name).toBe(
        'UnsupportedOperationException',
      );
      await importMaterial(cn, md.KeyId!, crypto.randomBytes(16));
      const enc = await cn.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') }));
      expect(Buffer.from((await cn.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!)).toEqual(Buffer.from('x'));
    } finally {
      cn.destroy();
    }
  });

  test('a blob wrapped under another public key is InvalidCiphertextException without a message', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });
    const err = await kmsError(kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', other, crypto.randomBytes(32)))));
    expect(err).toEqual({ name: 'InvalidCiphertextException', message: 'UnknownError', status: 400 });
  });

  test('material wrapped with SHA-1 OAEP under a SHA-256 token does not unwrap', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    const err = await kmsError(kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_1', params.PublicKey!, crypto.randomBytes(32)))));
    expect(err.name).toBe('InvalidCiphertextException');
  });

  test('different material after the first import is IncorrectKeyMaterialException and the old material keeps working', async () => {
    const md = await createExternalKey(kms);
    const first = crypto.randomBytes(32);
    await importMaterial(kms, md.KeyId!, first);
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('kept') }));
    expect((await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!)).toEqual(Buffer.from('kept'));
    expect(emu.inspectKey(md.KeyId!)!.materials).toHaveLength(1);
  });
});

describe('expiry and deletion', () => {
  test('material expires on the emulator clock and the key falls back to PendingImport', async () => {
    const md = await createExternalKey(kms);
    const validTo = new Date(emu.clock.now().getTime() + 2 * HOUR);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: validTo });
    const live = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(live).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    expect(Math.abs(live.ValidTo!.getTime() - validTo.getTime())).toBeLessThan(1000);
    emu.clock.advance(2 * HOUR + 1000);
    try {
      const expired = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
      expect(expired).toMatchObject({ KeyState: 'PendingImport', Enabled: false, CurrentKeyMaterialId: live.CurrentKeyMaterialId });
      expect(expired.ExpirationModel).toBeUndefined();
      expect(expired.ValidTo).toBeUndefined();
      const err = await kmsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })));
      expect(err.message).toBe(`${md.Arn} is pending import.`);
    } finally {
      emu.clock.advance(-(2 * HOUR + 1000));
    }
  });

  test('deleting material makes the key PendingImport, keeps CurrentKeyMaterialId, and only the same material restores it', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    const imported = await importMaterial(kms, md.KeyId!, material);
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('survives') }));
    const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    expect(del).toMatchObject({ KeyId: md.Arn, KeyMaterialId: imported.KeyMaterialId });
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after).toMatchObject({ KeyState: 'PendingImport', Enabled: false, CurrentKeyMaterialId: imported.KeyMaterialId });
    expect(after.ExpirationModel).toBeUndefined();
    // Deleting again is a no-op.
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    expect((await kmsError(importMaterial(kms, md.KeyId!, crypto.randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    const again = await importMaterial(kms, md.KeyId!, material, { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
    expect(again.KeyMaterialId).toBe(imported.KeyMaterialId);
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!)).toEqual(Buffer.from('survives'));
  });

  test('re-importing the same material changes the expiration without a delete', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    await importMaterial(kms, md.KeyId!, material, { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: new Date(emu.clock.now().getTime() + DAY) });
    await importMaterial(kms, md.KeyId!, material);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after.ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    expect(after.ValidTo).toBeUndefined();
  });

  test('DeleteImportedKeyMaterial on an AWS_KMS key is the origin error', async () => {
    const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const err = await kmsError(kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId })));
    expect(err).toEqual({ name: 'UnsupportedOperationException', message: `${md.Arn} origin is AWS_KMS which is not valid for this operation.`, status: 400 });
  });
});
