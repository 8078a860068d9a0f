import * as crypto from 'crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  KMSClient,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { DAY, createExternalKey, importMaterial, kmsClient, kmsError } from './helpers';

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

async function encrypt(keyId: string, text: string): Promise<Uint8Array> {
  return (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(text) }))).CiphertextBlob!;
}

async function decrypt(blob: Uint8Array): Promise<{ text: string; keyMaterialId?: string }> {
  const out = await kms.send(new DecryptCommand({ CiphertextBlob: blob }));
  return { text: Buffer.from(out.Plaintext!).toString(), keyMaterialId: out.KeyMaterialId };
}

describe('on-demand rotation of imported symmetric material', () => {
  test('NEW_KEY_MATERIAL waits in PENDING_ROTATION, RotateKeyOnDemand makes it current, and old ciphertext still decrypts', async () => {
    const md = await createExternalKey(kms);
    const first = await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const oldBlob = await encrypt(md.KeyId!, 'before rotation');

    const second = await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: 'second' });
    expect(second.KeyMaterialId).not.toBe(first.KeyMaterialId);
    // A pending import leaves the key as it was.
    const pending = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(pending).toMatchObject({ KeyState: 'Enabled', CurrentKeyMaterialId: first.KeyMaterialId });
    expect(emu.inspectKey(md.KeyId!)!.materials.map((m) => m.state)).toEqual(['CURRENT', 'PENDING_ROTATION']);

    const rotated = await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    expect(rotated.KeyId).toBe(md.Arn);
    const after = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(after.CurrentKeyMaterialId).toBe(second.KeyMaterialId);

    const newBlob = await encrypt(md.KeyId!, 'after rotation');
    expect(await decrypt(oldBlob)).toEqual({ text: 'before rotation', keyMaterialId: first.KeyMaterialId });
    expect(await decrypt(newBlob)).toEqual({ text: 'after rotation', keyMaterialId: second.KeyMaterialId });

    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId }));
    expect(rotations.Rotations).toEqual([
      expect.objectContaining({
        KeyId: md.Arn,
        KeyMaterialId: second.KeyMaterialId,
        KeyMaterialDescription: 'second',
        KeyMaterialState: 'CURRENT',
        ImportState: 'IMPORTED',
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
        RotationType: 'ON_DEMAND',
        RotationDate: expect.any(Date),
      }),
    ]);
    const all = await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }));
    expect(all.Rotations!.map((r) => [r.KeyMaterialId, r.KeyMaterialState])).toEqual([
      [first.KeyMaterialId, 'NON_CURRENT'],
      [second.KeyMaterialId, 'CURRENT'],
    ]);
    expect(all.Rotations![0].RotationDate).toBeUndefined();
  });

  test('a second pending material gets the recorded KMSInvalidStateException naming the key ARN', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const pending = await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    const third = crypto.randomBytes(32);
    const thirdId = crypto.createHmac('sha256', md.KeyId!).update(third).digest('hex');
    const err = await kmsError(importMaterial(kms, md.KeyId!, third, { ImportType: 'NEW_KEY_MATERIAL' }));
    expect(err).toEqual({
      name: 'KMSInvalidStateException',
      message: `New key material (id: ${thirdId}) cannot be imported into KMS key ${md.Arn}, because another key material (id: ${pending.KeyMaterialId}) is pending rotation.`,
      status: 400,
    });
  });

  test('NEW_KEY_MATERIAL with material the key already has is IncorrectKeyMaterialException', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    await importMaterial(kms, md.KeyId!, material);
    expect((await kmsError(importMaterial(kms, md.KeyId!, material, { ImportType: 'NEW_KEY_MATERIAL' }))).name).toBe('IncorrectKeyMaterialException');
  });

  test('EXISTING_KEY_MATERIAL checks the KeyMaterialId it is given', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    const first = await importMaterial(kms, md.KeyId!, material);
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    const wrongId = await kmsError(importMaterial(kms, md.KeyId!, material, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: 'f'.repeat(64) }));
    expect(wrongId.name).toBe('IncorrectKeyMaterialException');
    await importMaterial(kms, md.KeyId!, material, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: first.KeyMaterialId });
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Enabled');
  });

  test('RotateKeyOnDemand without pending material gives the recorded message; on a PendingImport key the pending-import message', async () => {
    const md = await createExternalKey(kms);
    expect((await kmsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })))).message).toBe(`${md.Arn} is pending import.`);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const err = await kmsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })));
    expect(err).toEqual({ name: 'KMSInvalidStateException', message: `No available key material pending rotation for the key: ${md.Arn}.`, status: 400 });
    await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    expect(await kmsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })))).toEqual({
      name: 'DisabledException',
      message: `${md.Arn} is disabled.`,
      status: 400,
    });
    await kms.send(new EnableKeyCommand({ KeyId: md.KeyId }));
  });

  test('deleting a NON_CURRENT material makes the key PendingImport until that material is re-imported', async () => {
    const md = await createExternalKey(kms);
    const firstMaterial = crypto.randomBytes(32);
    const first = await importMaterial(kms, md.KeyId!, firstMaterial);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    const del = await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId, KeyMaterialId: first.KeyMaterialId }));
    expect(del.KeyMaterialId).toBe(first.KeyMaterialId);
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingImport');
    await importMaterial(kms, md.KeyId!, firstMaterial);
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Enabled');
  });

  test('deleting the pending material removes it without touching the key state', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const pending = await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId, KeyMaterialId: pending.KeyMaterialId }));
    const inspected = emu.inspectKey(md.KeyId!)!;
    expect(inspected.keyState).toBe('Enabled');
    expect(inspected.materials.map((m) => m.state)).toEqual(['CURRENT']);
  });

  test('ValidTo reports the earliest expiry among permanent materials, not the pending one', async () => {
    const md = await createExternalKey(kms);
    const now = emu.clock.now().getTime();
    const currentExpiry = new Date(now + 30 * DAY);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), { ExpirationModel: 'KEY_MATERIAL_EXPIRES', ValidTo: currentExpiry });
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32), {
      ImportType: 'NEW_KEY_MATERIAL',
      ExpirationModel: 'KEY_MATERIAL_EXPIRES',
      ValidTo: new Date(now + 10 * DAY),
    });
    const md1 = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(Math.abs(md1.ValidTo!.getTime() - currentExpiry.getTime())).toBeLessThan(1000);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    const md2 = (await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(Math.abs(md2.ValidTo!.getTime() - (now + 10 * DAY))).toBeLessThan(1000);
  });

  test('automatic rotation is refused for EXTERNAL keys with the origin message', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const err = await kmsError(kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId })));
    expect(err).toEqual({ name: 'UnsupportedOperationException', message: `${md.Arn} origin is EXTERNAL which is not valid for this operation.`, status: 400 });
  });

  test('the 26th on-demand rotation hits the recorded LimitExceededException', async () => {
    const md = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    for (let i = 0; i < 25; i++) await kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    const err = await kmsError(kms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })));
    expect(err).toEqual({
      name: 'LimitExceededException',
      message: `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${md.Arn}`,
      status: 400,
    });
    const rotations = await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId, Limit: 10 }));
    expect(rotations.Rotations).toHaveLength(10);
    expect(rotations.Truncated).toBe(true);
    const rest = await kms.send(new ListKeyRotationsCommand({ KeyId: md.KeyId, Marker: rotations.NextMarker, Limit: 100 }));
    expect(rest.Rotations).toHaveLength(15);
    expect(rest.Truncated).toBe(false);
  });
});
