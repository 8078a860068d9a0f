import * as crypto from 'crypto';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { DAY, createExternalKey, importMaterial, kmsClient, kmsError } from './helpers';

let emu: KmsEmulator;
let kms: KMSClient;

beforeAll(async () => {
  emu = await KmsEmulator.start({ accountId: '111111111111' });
  kms = kmsClient(emu);
});
afterAll(async () => {
  kms.destroy();
  await emu.stop();
});

describe('CreateKey', () => {
  test.each([
    ['RSA_2048', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }],
    [
      'RSA_4096',
      'SIGN_VERIFY',
      { SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] },
    ],
    ['ECC_NIST_P256', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_NIST_P384', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_384'] }],
    ['ECC_NIST_P521', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_512'] }],
    ['ECC_SECG_P256K1', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_NIST_P256', 'KEY_AGREEMENT', { KeyAgreementAlgorithms: ['ECDH'] }],
    ['HMAC_512', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_512'] }],
  ] as const)('an EXTERNAL %s %s key lists the algorithms AWS lists', async (spec, usage, algorithms) => {
    const md = await createExternalKey(kms, { KeySpec: spec, KeyUsage: usage });
    expect(md).toMatchObject({ KeySpec: spec, CustomerMasterKeySpec: spec, KeyUsage: usage, KeyState: 'PendingImport', Enabled: false, ...algorithms });
    for (const list of ['EncryptionAlgorithms', 'SigningAlgorithms', 'MacAlgorithms', 'KeyAgreementAlgorithms'] as const) {
      if (!(list in algorithms)) expect(md[list]).toBeUndefined();
    }
  });

  test('a non-symmetric spec without KeyUsage is the recorded ValidationException', async () => {
    const err = await kmsError(createExternalKey(kms, { KeySpec: 'HMAC_256' }));
    expect(err).toEqual({ name: 'ValidationException', message: 'You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.', status: 400 });
  });

  test('a usage the spec does not allow is a ValidationException in the recorded wording', async () => {
    const err = await kmsError(createExternalKey(kms, { KeySpec: 'RSA_2048', KeyUsage: 'KEY_AGREEMENT' }));
    expect(err).toEqual({ name: 'ValidationException', message: 'KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048', status: 400 });
  });

  test('ML-DSA keys cannot have EXTERNAL origin, and SM2 keys exist only in China Regions', async () => {
    expect((await kmsError(createExternalKey(kms, { KeySpec: 'ML_DSA_65', KeyUsage: 'SIGN_VERIFY' }))).name).toBe('UnsupportedOperationException');
    expect((await kmsError(createExternalKey(kms, { KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' }))).name).toBe('UnsupportedOperationException');
    const cn = kmsClient(emu, 'cn-north-1');
    try {
      expect((await createExternalKey(cn, { KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })).SigningAlgorithms).toEqual(['SM2DSA']);
    } finally {
      cn.destroy();
    }
  });

  test('an AWS_KMS key is Enabled at once with a CurrentKeyMaterialId and no ExpirationModel', async () => {
    const md = (await kms.send(new CreateKeyCommand({ Description: 'plain' }))).KeyMetadata!;
    expect(md).toMatchObject({ KeyState: 'Enabled', Enabled: true, Origin: 'AWS_KMS', Description: 'plain', MultiRegion: false });
    expect(md.CurrentKeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    expect(md.ExpirationModel).toBeUndefined();
  });

  test('the default key policy gives the account root kms:*, and PutKeyPolicy replaces it', async () => {
    const md = await createExternalKey(kms);
    const policy = await kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId, PolicyName: 'default' }));
    expect(policy.PolicyName).toBe('default');
    expect(JSON.parse(policy.Policy!)).toEqual({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }],
    });
    // A policy that no longer lets the caller update it needs BypassPolicyLockoutSafetyCheck.
    const mine = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:GetKeyPolicy', Resource: '*' }] });
    const lockout = await kmsError(kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, PolicyName: 'default', Policy: mine })));
    expect(lockout).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'The new key policy will not allow you to update the key policy in the future.' });
    await kms.send(new PutKeyPolicyCommand({ KeyId: md.KeyId, PolicyName: 'default', Policy: mine, BypassPolicyLockoutSafetyCheck: true }));
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: md.KeyId }))).Policy).toBe(mine);
    const created = await createExternalKey(kms, { Policy: mine, BypassPolicyLockoutSafetyCheck: true });
    expect((await kms.send(new GetKeyPolicyCommand({ KeyId: created.KeyId }))).Policy).toBe(mine);
  });

  test('ListKeys pages through the keys of the caller Region', async () => {
    const eu = kmsClient(emu, 'eu-north-1');
    try {
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await createExternalKey(eu)).KeyId);
      const first = await eu.send(new ListKeysCommand({ Limit: 2 }));
      expect(first.Truncated).toBe(true);
      const second = await eu.send(new ListKeysCommand({ Limit: 2, Marker: first.NextMarker }));
      expect(second.Truncated).toBe(false);
      expect([...first.Keys!, ...second.Keys!].map((k) => k.KeyId)).toEqual(ids);
    } finally {
      eu.destroy();
    }
  });
});

describe('aliases', () => {
  test('name a key in DescribeKey and Encrypt, by name or ARN, and can be listed, moved and deleted', async () => {
    const a = await createExternalKey(kms);
    const b = await createExternalKey(kms);
    await importMaterial(kms, a.KeyId!, crypto.randomBytes(32));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/byok-test', TargetKeyId: a.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/byok-test' }))).KeyMetadata!.KeyId).toBe(a.KeyId);
    const aliasArn = 'arn:aws:kms:us-east-1:111111111111:alias/byok-test';
    expect((await kms.send(new DescribeKeyCommand({ KeyId: aliasArn }))).KeyMetadata!.KeyId).toBe(a.KeyId);
    expect((await kms.send(new EncryptCommand({ KeyId: 'alias/byok-test', Plaintext: Buffer.from('x') }))).KeyId).toBe(a.Arn);

    const listed = await kms.send(new ListAliasesCommand({ KeyId: a.KeyId }));
    expect(listed.Aliases).toEqual([expect.objectContaining({ AliasName: 'alias/byok-test', AliasArn: aliasArn, TargetKeyId: a.KeyId, CreationDate: expect.any(Date) })]);
    expect((await kmsError(kms.send(new CreateAliasCommand({ AliasName: 'alias/byok-test', TargetKeyId: b.KeyId })))).name).toBe('AlreadyExistsException');

    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/byok-test', TargetKeyId: b.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/byok-test' }))).KeyMetadata!.KeyId).toBe(b.KeyId);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/byok-test' }));
    const gone = await kmsError(kms.send(new DescribeKeyCommand({ KeyId: 'alias/byok-test' })));
    expect(gone).toEqual({ name: 'NotFoundException', message: `Alias ${aliasArn} is not found.`, status: 400 });
  });

  test('a name without the alias/ prefix is the recorded ValidationException', async () => {
    const md = await createExternalKey(kms);
    const err = await kmsError(kms.send(new CreateAliasCommand({ AliasName: 'byok', TargetKeyId: md.KeyId })));
    expect(err.message).toBe('Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  });
});

describe('key state', () => {
  test('EnableKey and DisableKey are refused while the key is PendingImport', async () => {
    const md = await createExternalKey(kms);
    expect(await kmsError(kms.send(new EnableKeyCommand({ KeyId: md.KeyId })))).toEqual({ name: 'KMSInvalidStateException', message: `${md.Arn} is pending import.`, status: 400 });
    expect((await kmsError(kms.send(new DisableKeyCommand({ KeyId: md.KeyId })))).name).toBe('KMSInvalidStateException');
  });

  test('a Disabled key refuses crypto, takes a re-import, and stays Disabled until enabled', async () => {
    const md = await createExternalKey(kms);
    const material = crypto.randomBytes(32);
    await importMaterial(kms, md.KeyId!, material);
    await kms.send(new DisableKeyCommand({ KeyId: md.KeyId }));
    expect(await kmsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })))).toEqual({
      name: 'DisabledException',
      message: `${md.Arn} is disabled.`,
      status: 400,
    });
    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId: md.KeyId }));
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('PendingImport');
    await importMaterial(kms, md.KeyId!, material);
    expect(emu.inspectKey(md.KeyId!)!.keyState).toBe('Disabled');
    await kms.send(new EnableKeyCommand({ KeyId: md.KeyId }));
    expect((await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') }))).KeyId).toBe(md.Arn);
  });

  test('ScheduleKeyDeletion makes the key PendingDeletion; cancelling leaves it Disabled; the window passing deletes it', async () => {
    const md = await createExternalKey(kms);
    await importMaterial(kms, md.KeyId!, crypto.randomBytes(32));
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: md.Arn, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate!.getTime() - emu.clock.now().getTime()).toBeGreaterThan(7 * DAY - 60_000);
    expect((await kmsError(kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('x') })))).message).toBe(`${md.Arn} is pending deletion.`);
    await kms.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled' });

    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId, PendingWindowInDays: 7 }));
    emu.clock.advance(7 * DAY + 1000);
    try {
      expect((await kmsError(kms.send(new DescribeKeyCommand({ KeyId: md.KeyId })))).name).toBe('NotFoundException');
    } finally {
      emu.clock.advance(-(7 * DAY + 1000));
    }
  });
});

describe('tags', () => {
  test('are set at creation, added, overwritten, listed and removed', async () => {
    const md = await createExternalKey(kms, { Tags: [{ TagKey: 'team', TagValue: 'security' }] });
    await kms.send(new TagResourceCommand({ KeyId: md.KeyId, Tags: [{ TagKey: 'env', TagValue: 'test' }, { TagKey: 'team', TagValue: 'platform' }] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId }))).Tags).toEqual([
      { TagKey: 'team', TagValue: 'platform' },
      { TagKey: 'env', TagValue: 'test' },
    ]);
    await kms.send(new UntagResourceCommand({ KeyId: md.KeyId, TagKeys: ['team'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: md.KeyId }))).Tags).toEqual([{ TagKey: 'env', TagValue: 'test' }]);
  });

  test('aws: tags and duplicates are the recorded TagExceptions', async () => {
    expect(await kmsError(createExternalKey(kms, { Tags: [{ TagKey: 'aws:x', TagValue: 'y' }] }))).toEqual({
      name: 'TagException',
      message: 'Tags beginning with aws: are reserved',
      status: 400,
    });
    const dup = [
      { TagKey: 'a', TagValue: '1' },
      { TagKey: 'a', TagValue: '2' },
    ];
    expect((await kmsError(createExternalKey(kms, { Tags: dup }))).message).toBe('Duplicate tag keys');
  });
});
