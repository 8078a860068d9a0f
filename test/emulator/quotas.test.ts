import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { EmulatorClock, KmsEmulator } from '../../testing/emulator';
import { createExternalKey, importParameters, kmsClient, kmsError } from './helpers';

// The AWS KMS Developer Guide, "Request quotas" and "Throttling AWS KMS requests".
const THROTTLED = {
  name: 'ThrottlingException',
  status: 400,
  message: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
};
const PARTNER = '444455556666';

/** The emulator's clock, stopped: the buckets refill only when the test moves it. */
class StoppedClock extends EmulatorClock {
  private at = Date.parse('2027-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at += ms;
  }
}

let emu: KmsEmulator;
let clock: StoppedClock;
const clients: KMSClient[] = [];
/** A client that does not retry, so that each throttled request is seen. */
const client = (region = 'us-east-1', accessKeyId = 'AKID') => {
  const c = kmsClient(emu, region, accessKeyId, 1);
  clients.push(c);
  return c;
};

beforeEach(async () => {
  clock = new StoppedClock();
  emu = await KmsEmulator.start({ clock, quotas: {}, accounts: { AKIDPARTNER: PARTNER } });
});
const advance = (ms: number) => clock.advance(ms);
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await emu.stop();
});

describe('request quotas', () => {
  test('GetParametersForImport: one request per 4 seconds per account and Region, the next one throttled with KMS\'s message', async () => {
    const kms = client();
    const key = await createExternalKey(kms);
    await importParameters(kms, key.KeyId);
    expect(await kmsError(importParameters(kms, key.KeyId))).toEqual(THROTTLED);
    advance(3_999);
    expect((await kmsError(importParameters(kms, key.KeyId))).name).toBe('ThrottlingException');
    advance(1);
    await expect(importParameters(kms, key.KeyId)).resolves.toHaveProperty('ImportToken');
    expect(emu.calls.filter((c) => c.operation === 'GetParametersForImport').map((c) => c.status)).toEqual([200, 400, 400, 200]);
  });

  test('each account and Region has its own quota; a cross-account request counts against the caller', async () => {
    const owner = client();
    const key = await createExternalKey(owner);
    await importParameters(owner, key.KeyId);
    // The partner calls with the key's ARN: its own bucket is used, not the owner's (whatever
    // the key policy then says).
    const partner = await importParameters(client('us-east-1', 'AKIDPARTNER'), key.Arn).then(() => 'answered', (e) => e.name);
    expect(partner).not.toBe('ThrottlingException');
    expect(emu.calls.at(-1)).toMatchObject({ operation: 'GetParametersForImport', account: PARTNER });
    const west = client('us-west-2');
    const westKey = await createExternalKey(west);
    await expect(importParameters(west, westKey.KeyId)).resolves.toHaveProperty('ImportToken');
    expect((await kmsError(importParameters(owner, key.KeyId))).name).toBe('ThrottlingException');
  });

  test('CreateKey allows a burst of 5 in a second, then throttles; DescribeKey (100 per second) is not affected', async () => {
    const kms = client();
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await createExternalKey(kms));
    expect(await kmsError(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' })))).toEqual(THROTTLED);
    await kms.send(new DescribeKeyCommand({ KeyId: keys[0].KeyId }));
    advance(200);
    await createExternalKey(kms);
  });

  test('a quota increase for one account and Region applies there only', async () => {
    emu.quotas.setQuota('GetParametersForImport', 2, { account: '111122223333', region: 'us-east-1' });
    const kms = client();
    const key = await createExternalKey(kms);
    await importParameters(kms, key.KeyId);
    await importParameters(kms, key.KeyId);
    expect((await kmsError(importParameters(kms, key.KeyId))).name).toBe('ThrottlingException');
    advance(500);
    await importParameters(kms, key.KeyId);
    expect(emu.quotas.quota('GetParametersForImport', '111122223333', 'us-east-1')).toBe(2);
    expect(emu.quotas.quota('GetParametersForImport', '111122223333', 'eu-west-1')).toBe(0.25);
  });

  test('throttling can be turned off, and is off in a KmsEmulator started without quotas', async () => {
    emu.quotas.setEnabled(false);
    const kms = client();
    const key = await createExternalKey(kms);
    for (let i = 0; i < 3; i++) await importParameters(kms, key.KeyId);
    const bare = await KmsEmulator.start();
    try {
      expect(bare.quotas.isEnabled).toBe(false);
    } finally {
      await bare.stop();
    }
  });

  test('scale multiplies every default in proportion', async () => {
    const scaled = await KmsEmulator.start({ quotas: { scale: 8 } });
    try {
      expect(scaled.quotas.quota('GetParametersForImport', '111122223333', 'us-east-1')).toBe(2);
      expect(scaled.quotas.quota('CreateKey', '111122223333', 'us-east-1')).toBe(40);
      expect(scaled.quotas.quota('Encrypt', '111122223333', 'us-east-1')).toBe(scaled.quotas.quota('Decrypt', '111122223333', 'us-east-1'));
    } finally {
      await scaled.stop();
    }
  });
});
