import * as crypto from 'crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EncryptCommand,
  KMSClient,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { HOUR, createExternalKey, importCommand, importMaterial, importParameters, kmsClient, kmsError, wrapMaterial } from './helpers';

let emu: KmsEmulator;
let primaryKms: KMSClient;
let replicaKms: KMSClient;

beforeAll(async () => {
  emu = await KmsEmulator.start({ region: 'us-east-1' });
  primaryKms = kmsClient(emu, 'us-east-1');
  replicaKms = kmsClient(emu, 'eu-west-1');
});
afterAll(async () => {
  primaryKms.destroy();
  replicaKms.destroy();
  await emu.stop();
});

describe('multi-Region EXTERNAL keys', () => {
  test('a multi-Region key has an mrk- id and a PRIMARY configuration', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    expect(md.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(md).toMatchObject({
      MultiRegion: true,
      KeyState: 'PendingImport',
      MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY', PrimaryKey: { Arn: md.Arn, Region: 'us-east-1' }, ReplicaKeys: [] },
    });
  });

  test('ReplicateKey needs an Enabled primary', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    const err = await kmsError(primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' })));
    expect(err).toEqual({ name: 'KMSInvalidStateException', message: `${md.Arn} is pending import.`, status: 400 });
  });

  test('the replica imports the same material with its own token, and decrypts what the primary encrypted', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    const material = crypto.randomBytes(32);
    const primaryImport = await importMaterial(primaryKms, md.KeyId!, material);

    const rep = await primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1', Description: 'replica' }));
    const replicaArn = `arn:aws:kms:eu-west-1:111122223333:key/${md.KeyId}`;
    expect(rep.ReplicaKeyMetadata).toMatchObject({
      Arn: replicaArn,
      KeyId: md.KeyId,
      KeyState: 'Creating',
      Enabled: false,
      Origin: 'EXTERNAL',
      MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA', PrimaryKey: { Arn: md.Arn, Region: 'us-east-1' }, ReplicaKeys: [{ Arn: replicaArn, Region: 'eu-west-1' }] },
    });
    expect(JSON.parse(rep.ReplicaPolicy!).Statement[0].Principal.AWS).toBe('arn:aws:iam::111122223333:root');

    const replica = (await replicaKms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(replica).toMatchObject({ KeyState: 'PendingImport', CurrentKeyMaterialId: primaryImport.KeyMaterialId, Description: 'replica' });
    expect(replica.ExpirationModel).toBeUndefined();
    const primaryView = (await primaryKms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(primaryView.MultiRegionConfiguration!.ReplicaKeys).toEqual([{ Arn: replicaArn, Region: 'eu-west-1' }]);

    // The primary's ciphertext is not decryptable in the replica Region until the replica has the material.
    const blob = (await primaryKms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('cross-region') }))).CiphertextBlob!;
    expect((await kmsError(replicaKms.send(new DecryptCommand({ CiphertextBlob: blob })))).message).toBe(`${replicaArn} is pending import.`);

    // Different material is refused; the same material (own token, own expiry) is accepted.
    expect((await kmsError(importMaterial(replicaKms, md.KeyId!, crypto.randomBytes(32)))).name).toBe('IncorrectKeyMaterialException');
    const validTo = new Date(emu.clock.now().getTime() + 5 * HOUR);
    const replicaImport = await importMaterial(replicaKms, md.KeyId!, material, {
      algorithm: 'RSA_AES_KEY_WRAP_SHA_256',
      ExpirationModel: 'KEY_MATERIAL_EXPIRES',
      ValidTo: validTo,
    });
    expect(replicaImport.KeyId).toBe(replicaArn);
    expect(replicaImport.KeyMaterialId).toBe(primaryImport.KeyMaterialId);
    const dec = await replicaKms.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(Buffer.from(dec.Plaintext!).toString()).toBe('cross-region');
    expect(dec.KeyId).toBe(replicaArn);

    // Expiry is per key: the replica's material expires, the primary's does not.
    emu.clock.advance(5 * HOUR + 1000);
    try {
      expect(emu.inspectKey(replicaArn)!.keyState).toBe('PendingImport');
      expect(emu.inspectKey(md.Arn!)!.keyState).toBe('Enabled');
    } finally {
      emu.clock.advance(-(5 * HOUR + 1000));
    }
  });

  test('a replica token cannot be used on the primary, and a second replica in the same Region is AlreadyExistsException', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    await importMaterial(primaryKms, md.KeyId!, crypto.randomBytes(32));
    await primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' }));
    expect((await kmsError(primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' })))).name).toBe('AlreadyExistsException');
    const replicaParams = await importParameters(replicaKms, md.KeyId);
    expect(replicaParams.KeyId).toBe(`arn:aws:kms:eu-west-1:111122223333:key/${md.KeyId}`);
    const err = await kmsError(primaryKms.send(importCommand(md.KeyId, replicaParams, wrapMaterial('RSAES_OAEP_SHA_256', replicaParams.PublicKey!, crypto.randomBytes(32)))));
    expect(err.name).toBe('InvalidImportTokenException');
  });

  test('replicating a replica is the recorded UnsupportedOperationException', async () => {
    const md = (await primaryKms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    await primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' }));
    const replicaArn = `arn:aws:kms:eu-west-1:111122223333:key/${md.KeyId}`;
    const err = await kmsError(replicaKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-central-1' })));
    expect(err).toEqual({ name: 'UnsupportedOperationException', message: `${replicaArn} is not a multi-region primary key.`, status: 400 });
    // AWS_KMS material is shared with the replica.
    const blob = (await primaryKms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('shared') }))).CiphertextBlob!;
    expect(Buffer.from((await replicaKms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('shared');
  });

  test('new material on the primary waits for every replica before it can rotate', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    const first = crypto.randomBytes(32);
    await importMaterial(primaryKms, md.KeyId!, first);
    await primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' }));
    await importMaterial(replicaKms, md.KeyId!, first);

    const second = crypto.randomBytes(32);
    const pending = await importMaterial(primaryKms, md.KeyId!, second, { ImportType: 'NEW_KEY_MATERIAL', KeyMaterialDescription: 'v2' });
    expect(emu.inspectKey(md.Arn!)!.materials.map((m) => m.state)).toEqual(['CURRENT', 'PENDING_MULTI_REGION_IMPORT_AND_ROTATION']);
    expect((await kmsError(primaryKms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })))).name).toBe('KMSInvalidStateException');
    // Replicas cannot take new material directly.
    expect((await kmsError(importMaterial(replicaKms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' }))).name).toBe(
      'UnsupportedOperationException',
    );

    const onReplica = await importMaterial(replicaKms, md.KeyId!, second, { ImportType: 'EXISTING_KEY_MATERIAL', KeyMaterialId: pending.KeyMaterialId });
    expect(onReplica.KeyMaterialId).toBe(pending.KeyMaterialId);
    expect(emu.inspectKey(md.Arn!)!.materials.map((m) => m.state)).toEqual(['CURRENT', 'PENDING_ROTATION']);
    expect((await kmsError(replicaKms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId })))).name).toBe('UnsupportedOperationException');

    await primaryKms.send(new RotateKeyOnDemandCommand({ KeyId: md.KeyId }));
    const replicaView = (await replicaKms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!;
    expect(replicaView).toMatchObject({ KeyState: 'Enabled', CurrentKeyMaterialId: pending.KeyMaterialId });
    const blob = (await replicaKms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('v2 data') }))).CiphertextBlob!;
    expect(Buffer.from((await primaryKms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('v2 data');
  });

  test('deleting the pending material on the primary deletes it on the replicas too', async () => {
    const md = await createExternalKey(primaryKms, { MultiRegion: true });
    await importMaterial(primaryKms, md.KeyId!, crypto.randomBytes(32));
    await primaryKms.send(new ReplicateKeyCommand({ KeyId: md.KeyId, ReplicaRegion: 'eu-west-1' }));
    const pending = await importMaterial(primaryKms, md.KeyId!, crypto.randomBytes(32), { ImportType: 'NEW_KEY_MATERIAL' });
    expect(emu.inspectKey(md.KeyId!, 'eu-west-1')!.materials).toHaveLength(2);
    await primaryKms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId, KeyMaterialId: pending.KeyMaterialId }));
    expect(emu.inspectKey(md.KeyId!, 'eu-west-1')!.materials).toHaveLength(1);
    expect(emu.inspectKey(md.KeyId!)!.materials).toHaveLength(1);
  });
});
