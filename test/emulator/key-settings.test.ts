/**
 * The operations no part of the library calls but a user's own tests may: the automatic-rotation
 * switches, key descriptions, key policy names, data keys without plaintext and random bytes. Each
 * is checked against the behaviour the KMS API Reference documents for it.
 */
import * as crypto from 'crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListKeyPoliciesCommand,
  ScheduleKeyDeletionCommand,
  UpdateKeyDescriptionCommand,
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

async function awsKmsKey(): Promise<{ KeyId?: string; Arn?: string }> {
  return (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
}

describe('automatic rotation (EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus)', () => {
  test('a symmetric AWS_KMS key starts off, turns on with its period and next date, and turns off again', async () => {
    const md = await awsKmsKey();
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).toMatchObject({ KeyId: md.Arn, KeyRotationEnabled: false });

    await kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: 180 }));
    const on = await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.Arn }));
    expect(on).toMatchObject({ KeyId: md.Arn, KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    expect(on.NextRotationDate!.getTime() - emu.clock.now().getTime()).toBeGreaterThan(180 * DAY - 60_000);

    await kms.send(new DisableKeyRotationCommand({ KeyId: md.KeyId }));
    const off = await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }));
    expect(off.KeyRotationEnabled).toBe(false);
    expect(off.RotationPeriodInDays).toBeUndefined();
    expect(off.NextRotationDate).toBeUndefined();
  });

  test('the period defaults to 365 days and must lie within 90..2560', async () => {
    const md = await awsKmsKey();
    await kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).RotationPeriodInDays).toBe(365);
    for (const days of [89, 2561]) {
      expect((await kmsError(kms.send(new EnableKeyRotationCommand({ KeyId: md.KeyId, RotationPeriodInDays: days })))).name).toBe('ValidationException');
    }
  });

  test('a key with imported material reports automatic rotation off (README.md, "Choices"), and DisableKeyRotation refuses it with the origin message', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: md.KeyId }))).KeyRotationEnabled).toBe(false);
    expect(await kmsError(kms.send(new DisableKeyRotationCommand({ KeyId: md.KeyId })))).toEqual({
      name: 'UnsupportedOperationException',
      message: `${md.Arn} origin is EXTERNAL which is not valid for this operation.`,
      status: 400,
    });
  });

  test('asymmetric keys cannot change automatic rotation, and a Disabled key cannot either', async () => {
    const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    expect((await kmsError(kms.send(new DisableKeyRotationCommand({ KeyId: rsa.KeyId })))).name).toBe('UnsupportedOperationException');
    const md = await awsKmsKey();
    await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    expect((await kmsError(kms.send(new DisableKeyRotationCommand({ KeyId: md.KeyId })))).name).toBe('DisabledException');
  });

  test('an unknown key is NotFoundException', async () => {
    const err = await kmsError(kms.send(new GetKeyRotationStatusCommand({ KeyId: crypto.randomUUID() })));
    expect(err.name).toBe('NotFoundException');
  });
});

describe('UpdateKeyDescription', () => {
  test('replaces the description DescribeKey returns, also while the key waits for its material', async () => {
    const md = await createExternalKey(kms, { Description: 'first' });
    await kms.send(new UpdateKeyDescriptionCommand({ KeyId: md.KeyId, Description: 'second' }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata).toMatchObject({ Description: 'second', KeyState: 'PendingImport' });
  });

  test('is refused for a key pending deletion, which keeps its description', async () => {
    const md = await createExternalKey(kms, { Description: 'kept' });
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    expect(await kmsError(kms.send(new UpdateKeyDescriptionCommand({ KeyId: md.KeyId, Description: 'changed' })))).toEqual({
      name: 'KMSInvalidStateException',
      message: `${md.Arn} is pending deletion.`,
      status: 400,
    });
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.Description).toBe('kept');
  });

  test('a description longer than 8192 characters is a ValidationException', async () => {
    const md = await awsKmsKey();
    expect((await kmsError(kms.send(new UpdateKeyDescriptionCommand({ KeyId: md.KeyId, Description: 'x'.repeat(8193) })))).name).toBe('ValidationException');
  });
});

describe('ListKeyPolicies', () => {
  test('names the one policy a key has, default', async () => {
    const md = await createExternalKey(kms);
    expect(await kms.send(new ListKeyPoliciesCommand({ KeyId: md.Arn }))).toMatchObject({ PolicyNames: ['default'], Truncated: false });
  });

  test('an unknown key is NotFoundException', async () => {
    expect((await kmsError(kms.send(new ListKeyPoliciesCommand({ KeyId: crypto.randomUUID() })))).name).toBe('NotFoundException');
  });
});

describe('GenerateDataKeyWithoutPlaintext', () => {
  test('returns only the encrypted data key, which Decrypt opens to a key of the requested length', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    for (const [input, length] of [[{ KeySpec: 'AES_128' as const }, 16], [{ KeySpec: 'AES_256' as const }, 32], [{ NumberOfBytes: 7 }, 7]] as const) {
      const out = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: md.KeyId, EncryptionContext: { purpose: 'test' }, ...input }));
      expect(out.KeyId).toBe(md.Arn);
      const opened = await kms.send(new DecryptCommand({ CiphertextBlob: out.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
      expect(opened.Plaintext).toHaveLength(length);
    }
  });

  test('the response on the wire has no Plaintext member (the SDK would drop one silently)', async () => {
    const md = await awsKmsKey();
    const res = await fetch(`${emu.endpoint}/`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'TrentService.GenerateDataKeyWithoutPlaintext',
        'Authorization': 'AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
      },
      body: JSON.stringify({ KeyId: md.KeyId, KeySpec: 'AES_256' }),
    });
    expect(res.status).toBe(200);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(['CiphertextBlob', 'KeyId', 'KeyMaterialId']);
  });

  test('needs exactly one of KeySpec and NumberOfBytes', async () => {
    const md = await awsKmsKey();
    expect((await kmsError(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: md.KeyId })))).name).toBe('ValidationException');
    expect((await kmsError(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: md.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })))).name).toBe('ValidationException');
  });

  test('a key waiting for its material is KMSInvalidStateException', async () => {
    const md = await createExternalKey(kms);
    expect(await kmsError(kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: md.KeyId, KeySpec: 'AES_256' })))).toEqual({
      name: 'KMSInvalidStateException',
      message: `${md.Arn} is pending import.`,
      status: 400,
    });
  });
});

describe('GenerateRandom', () => {
  test('returns NumberOfBytes random bytes, 1 to 1024, without a key', async () => {
    const a = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    const b = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1024 }));
    expect(a.Plaintext).toHaveLength(1024);
    expect(Buffer.from(a.Plaintext!).equals(Buffer.from(b.Plaintext!))).toBe(false);
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 1 }))).Plaintext).toHaveLength(1);
  });

  test('NumberOfBytes is required and bounded', async () => {
    for (const n of [undefined, 0, 1025]) {
      expect((await kmsError(kms.send(new GenerateRandomCommand({ NumberOfBytes: n })))).name).toBe('ValidationException');
    }
  });

  test('is allowed by the caller identity policy alone', async () => {
    const role = 'arn:aws:iam::111122223333:role/Random';
    const allowed = new KMSClient({
      endpoint: emu.endpoint,
      region: 'us-east-1',
      credentials: emu.principals.credentialsFor(role, { identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateRandom', Resource: '*' }] }] }),
    });
    const denied = new KMSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials: emu.principals.credentialsFor(`${role}2`, { identityPolicies: [] }) });
    try {
      expect((await allowed.send(new GenerateRandomCommand({ NumberOfBytes: 16 }))).Plaintext).toHaveLength(16);
      expect((await kmsError(denied.send(new GenerateRandomCommand({ NumberOfBytes: 16 })))).name).toBe('AccessDeniedException');
    } finally {
      allowed.destroy();
      denied.destroy();
    }
  });
});
