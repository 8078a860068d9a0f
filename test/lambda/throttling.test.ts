import { CreateKeyCommand, GetParametersForImportCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { abortAllClients, kmsClient, throttlePauseMs } from '../../lambda/aws';
import { KmsEmulator } from '../../testing/emulator';

// The handler's clients against the emulator (real HTTP, injected faults), so that the SDK's
// retry strategy and the handler's patience run as deployed.
let emu: KmsEmulator;
const saved = { ...process.env };
beforeAll(async () => {
  emu = await KmsEmulator.start();
  Object.assign(process.env, { AWS_ENDPOINT_URL_KMS: emu.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'x' });
});
afterEach(() => {
  abortAllClients();
  emu.clearFaults();
  emu.clearCalls();
  emu.quotas.setEnabled(false);
});
afterAll(async () => {
  process.env = saved;
  await emu.stop();
});

const outcomes = (operation: string) => emu.calls.filter((c) => c.operation === operation).map((c) => c.errorType ?? c.status);

describe('throttling in the handler', () => {
  test('a throttled call is sent again until KMS accepts it, each throttled request once (the SDK does not also retry it)', async () => {
    emu.injectFault({ operation: 'ListKeys', kind: 'throttle', times: 6 });
    const out = await kmsClient('us-east-1').send(new ListKeysCommand({}));
    expect(outcomes('ListKeys')).toEqual([...Array(6).fill('ThrottlingException'), 200]);
    // The accepted request was the first attempt of its send: the SDK retried none of the six.
    expect(out.$metadata.attempts).toBe(1);
  });

  test('under the emulator\'s quotas, concurrent GetParametersForImport calls all get parameters, no faster than the quota', async () => {
    emu.quotas.setEnabled(true);
    emu.quotas.setQuota('GetParametersForImport', 2);
    const kms = kmsClient('us-east-1');
    const key = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
    const ask = () => kms.send(new GetParametersForImportCommand({ KeyId: key.KeyMetadata!.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const results = await Promise.allSettled(Array.from({ length: 6 }, ask));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(outcomes('GetParametersForImport').filter((o) => o === 'ThrottlingException').length).toBeGreaterThan(0);
    const granted = emu.calls.filter((c) => c.operation === 'GetParametersForImport' && c.status === 200).map((c) => c.clockAt);
    // Two at once (a second's worth), then two per second.
    expect(Math.max(...granted) - Math.min(...granted)).toBeGreaterThanOrEqual(1900);
  });

  test('server errors are still retried by the SDK (at most 5 attempts)', async () => {
    emu.injectFault({ operation: 'ListKeys', kind: 'internal', times: 10 });
    await expect(kmsClient('us-east-1').send(new ListKeysCommand({}))).rejects.toHaveProperty('name', 'KMSInternalException');
    expect(outcomes('ListKeys')).toEqual(Array(5).fill('KMSInternalException'));
  });

  test('the deadline stops a call that is waiting out throttling, with a Timeout error, and nothing is sent after it', async () => {
    emu.injectFault({ operation: 'ListKeys', kind: 'throttle', times: 1000 });
    const call = kmsClient('us-east-1').send(new ListKeysCommand({}));
    await new Promise((r) => setTimeout(r, 1500));
    abortAllClients();
    await expect(call).rejects.toThrow(/stopped while waiting out KMS throttling: the deadline passed|aborted|destroyed/i);
    const sent = emu.calls.length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(emu.calls.length).toBe(sent);
  });

  test('the pauses are jittered, grow from 250 ms and stay within 2 s', () => {
    expect(throttlePauseMs(0, () => 1)).toBe(250);
    expect(throttlePauseMs(2, () => 1)).toBe(1000);
    expect(throttlePauseMs(3, () => 1)).toBe(2000);
    expect(throttlePauseMs(50, () => 1)).toBe(2000);
    expect(throttlePauseMs(50, () => 0)).toBe(0);
  });
});
