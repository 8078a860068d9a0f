import * as crypto from 'crypto';
import { DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { createExternalKey, importCommand, importParameters, kmsClient, kmsError, wrapMaterial } from './helpers';

let emu: KmsEmulator;
let kms: KMSClient;
let once: KMSClient;

beforeAll(async () => {
  emu = await KmsEmulator.start();
  kms = kmsClient(emu);
  once = kmsClient(emu, 'us-east-1', 'AKID', 1);
});
afterEach(() => {
  emu.clearFaults();
  emu.setLatency(0);
});
afterAll(async () => {
  kms.destroy();
  once.destroy();
  await emu.stop();
});

describe('injected faults', () => {
  test('throttling is retried by the SDK until the call succeeds', async () => {
    emu.clearCalls();
    emu.injectFault({ operation: 'ListKeys', kind: 'throttle', times: 2 });
    const out = await kms.send(new ListKeysCommand({}));
    expect(out.$metadata.attempts).toBe(3);
    expect(emu.calls.map((c) => [c.operation, c.status, c.errorType])).toEqual([
      ['ListKeys', 400, 'ThrottlingException'],
      ['ListKeys', 400, 'ThrottlingException'],
      ['ListKeys', 200, undefined],
    ]);
  });

  test('an internal error is a 500 KMSInternalException server fault', async () => {
    emu.injectFault({ kind: 'internal' });
    const err = await once.send(new ListKeysCommand({})).catch((e) => e);
    expect(err).toMatchObject({ name: 'KMSInternalException', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    // Without a fault left, the same call goes through.
    await once.send(new ListKeysCommand({}));
  });

  test('a reset connection is a network error, which the SDK retries', async () => {
    emu.injectFault({ operation: 'ListKeys', kind: 'reset' });
    await expect(once.send(new ListKeysCommand({}))).rejects.toThrow(/socket hang up/);
    emu.injectFault({ operation: 'ListKeys', kind: 'reset' });
    const out = await kms.send(new ListKeysCommand({}));
    expect(out.$metadata.attempts).toBe(2);
  });

  test('a lost response to ImportKeyMaterial applies the import, and the retry finds the token spent', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    emu.clearCalls();
    emu.injectFault({ operation: 'ImportKeyMaterial', kind: 'lose-response' });
    const err = await kmsError(kms.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, crypto.randomBytes(32)))));
    // The SDK retried after the dropped connection; the token had been used by the applied first attempt.
    expect(err.name).toBe('InvalidImportTokenException');
    expect(emu.calls.map((c) => [c.status, c.fault, c.errorType])).toEqual([
      [200, 'lose-response', undefined],
      [400, undefined, 'InvalidImportTokenException'],
    ]);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: md.KeyId }))).KeyMetadata!.KeyState).toBe('Enabled');
  });

  test('a delay holds one response back; setLatency slows every request', async () => {
    emu.injectFault({ operation: 'ListKeys', kind: 'delay', delayMs: 300 });
    let t = Date.now();
    await kms.send(new ListKeysCommand({}));
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    t = Date.now();
    await kms.send(new ListKeysCommand({}));
    expect(Date.now() - t).toBeLessThan(250);
    emu.setLatency(150);
    t = Date.now();
    await kms.send(new ListKeysCommand({}));
    await kms.send(new ListKeysCommand({}));
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  test('a fault for one operation leaves the others alone and stays armed for its own; clearFaults disarms it', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId);
    const material = crypto.randomBytes(32);
    emu.clearCalls();
    emu.injectFault({ operation: 'ImportKeyMaterial', kind: 'internal', times: 5 });
    expect((await once.send(new ListKeysCommand({}))).$metadata.httpStatusCode).toBe(200);
    expect(await kmsError(once.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, material))))).toMatchObject({ name: 'KMSInternalException' });
    emu.clearFaults();
    await once.send(importCommand(md.KeyId, params, wrapMaterial('RSAES_OAEP_SHA_256', params.PublicKey!, material)));
    expect(emu.calls.map((c) => [c.operation, c.status, c.fault])).toEqual([
      ['ListKeys', 200, undefined],
      ['ImportKeyMaterial', 500, 'internal'],
      ['ImportKeyMaterial', 200, undefined],
    ]);
  });
});
