import { randomBytes } from 'crypto';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { Duration } from 'aws-cdk-lib';
import { ExternalKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { LocalCloud, LocalStack } from '../../testing/harness';
import { REGION, secretByArn, synth } from './util';

// Under KMS's request quotas (AWS KMS Developer Guide, "Request quotas"): one
// GetParametersForImport every 4 s per account and Region. CI raises them in proportion (the
// bench, `npm run bench`, deploys at the defaults and compares with the floor 4·(N−1) s); what
// these tests check is that the deployments are throttled and still end with 0 failures.
const DAY = 86400_000;

let cloud: LocalCloud;
afterEach(async () => { await cloud?.stop(); });

async function deployKeys(n: number, name: string, options: Partial<ConstructorParameters<typeof ExternalKey>[2]> = {}): Promise<LocalStack> {
  const arn = await cloud.createSecret(`quotas/${randomBytes(6).toString('hex')}`, { secretString: randomBytes(32).toString('base64') });
  const outdir = synth((stack) => {
    const secret = secretByArn(stack, 'Material', arn);
    // RSA_2048 wrapping keys: the emulator generates one per GetParametersForImport, and an
    // RSA_4096 pair costs it about a second of CPU (AWS generates them ahead of time).
    for (let i = 0; i < n; i++) new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secret), wrappingKeySpec: WrappingKeySpec.RSA_2048, ...options });
  }, name);
  return cloud.deploy(outdir, name);
}

function importsOf(stack: LocalStack) {
  return stack.invocations.filter((inv) => inv.event.ResourceType === 'Custom::KmsKeyMaterialImport');
}

const throttled = (operation: string) => cloud.kms.calls.filter((c) => c.operation === operation && c.errorType === 'ThrottlingException').length;

describe('deployments under KMS request quotas', () => {
  test.each([
    // 50 keys: GetParametersForImport raised 25× (6.25 per second); 150 keys: 40× (10 per second).
    [50, 25],
    [150, 40],
  ])('%i keys in one stack import with 0 failures while KMS throttles them (quotas raised %i× in proportion)', async (n, scale) => {
    cloud = await LocalCloud.start({ region: REGION, emulator: { quotas: { scale } } });
    const stack = await deployKeys(n, `Quota${n}`);
    const imports = importsOf(stack);
    expect(imports).toHaveLength(n);
    expect(imports.filter((inv) => inv.answers.length !== 1 || inv.answers[0].Status !== 'SUCCESS')).toEqual([]);
    expect(throttled('GetParametersForImport')).toBeGreaterThan(0);
    const granted = cloud.kms.calls.filter((c) => c.operation === 'GetParametersForImport' && c.status === 200);
    expect(granted).toHaveLength(n);
    // No faster than the quota: a second's worth at once, then `rate` per second.
    const rate = 0.25 * scale;
    const first = Math.min(...granted.map((c) => c.clockAt));
    const last = Math.max(...granted.map((c) => c.clockAt));
    expect(last - first).toBeGreaterThanOrEqual(((n - Math.max(1, rate)) / rate) * 1000 - 50);
  }, 240_000);

  test('renewals of keys with the same renewEvery: a burst is waited out; the schedules fire at distinct minutes', async () => {
    const n = 10;
    // Raised 4×: GetParametersForImport once per second.
    cloud = await LocalCloud.start({ region: REGION, emulator: { quotas: { scale: 4 } } });
    const stack = await deployKeys(n, 'QuotaRenewals', { expiration: KeyMaterialExpiration.after(Duration.days(30)), renewEvery: Duration.days(7) });
    const keyArns = importsOf(stack).map((inv) => inv.answers[0].Data!.KeyArn);
    const validTo = async () => Promise.all(keyArns.map(async (arn) => (await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.ValidTo!.getTime()));

    // A week later, every rule at once (the worst case: rules made with rate(7 days) in one
    // deployment fall in the same minute for ever).
    cloud.kms.clock.advance(7 * DAY);
    cloud.kms.clearCalls();
    const burst = await stack.fireSchedules();
    expect(burst.map((b) => b.exitCode)).toEqual(Array(n).fill(0));
    expect(burst.filter((b) => /"message":"renewed key material"/.test(b.logs))).toHaveLength(n);
    expect(throttled('GetParametersForImport')).toBeGreaterThan(0);
    const renewedAt = cloud.kms.clock.now().getTime();
    expect(Math.min(...await validTo())).toBeGreaterThan(renewedAt + 29 * DAY);

    // The next week as the schedules play it: each key's daily check at its own minute renews it
    // once it is due (6 days after the last import), and no two ask for parameters in one minute.
    cloud.kms.clock.advance(6 * DAY - 3600_000);
    cloud.kms.clearCalls();
    const fired = await stack.advanceSchedules(DAY + 3600_000);
    const renewed = fired.filter((f) => /"message":"renewed key material"/.test(f.logs));
    expect(renewed).toHaveLength(n);
    expect(fired.every((f) => f.exitCode === 0)).toBe(true);
    const granted = cloud.kms.calls.filter((c) => c.operation === 'GetParametersForImport' && c.status === 200);
    expect(granted).toHaveLength(n);
    expect(new Set(granted.map((c) => Math.floor(c.clockAt / 60_000))).size).toBe(n);
    expect(throttled('GetParametersForImport')).toBe(0);
    expect(Math.min(...await validTo())).toBeGreaterThan(renewedAt + 35 * DAY);
  }, 180_000);
});
