import { randomBytes } from 'crypto';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ExternalKey, KeyMaterial, WrappingKeySpec } from '../../lib';
import { LocalCloud } from '../../testing/harness';
import { expectEveryInvocationAnswered, fingerprints, RAISED_QUOTAS, REGION, secretByArn, sha256, synth } from './util';

let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });
afterEach(() => cloud.kms.clearFaults());

/** Deploys one symmetric key from fresh material; returns what a test needs to check it. */
async function deployOne(name: string, options: Parameters<LocalCloud['deploy']>[2] = {}) {
  const material = randomBytes(32);
  const arn = await cloud.createSecret(`faults/${randomBytes(5).toString('hex')}`, { secretString: material.toString('base64') });
  const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)), wrappingKeySpec: WrappingKeySpec.RSA_2048 }); }, name);
  const result = await cloud.deploy(outdir, name, options).then((stack) => ({ stack, error: undefined }), (error) => ({ stack: undefined, error }));
  return { material, ...result };
}
const keyArnOf = (stack: any) => stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
const errorsOf = (op: string) => cloud.kms.calls.filter((c) => c.operation === op && (c.status !== 200 || c.fault)).map((c) => c.fault ?? c.errorType);

describe('faults on the way to KMS', () => {
  beforeEach(() => cloud.kms.clearCalls());

  test.each([
    ['throttling', 'throttle', 'GetParametersForImport'],
    ['a 500 from KMS', 'internal', 'ImportKeyMaterial'],
    ['a reset connection', 'reset', 'GetParametersForImport'],
  ] as const)('%s is retried by the SDK and the import succeeds', async (_what, kind, operation) => {
    cloud.kms.injectFault({ operation, kind, times: 2 });
    const { stack, material, error } = await deployOne(`Fault${kind}`);
    expect(error).toBeUndefined();
    expect(errorsOf(operation)).toEqual([kind, kind]);
    expect(fingerprints(cloud, keyArnOf(stack))).toEqual([sha256(material)]);
  });

  test('a slow KMS within the deadline only makes the import slower', async () => {
    cloud.kms.injectFault({ operation: 'ImportKeyMaterial', kind: 'delay', delayMs: 1500 });
    const { stack, material, error } = await deployOne('FaultSlow');
    expect(error).toBeUndefined();
    expect(fingerprints(cloud, keyArnOf(stack))).toEqual([sha256(material)]);
  });

  test('an ImportKeyMaterial applied by KMS whose answer is lost: the retry succeeds because the same material is already there', async () => {
    cloud.kms.injectFault({ operation: 'ImportKeyMaterial', kind: 'lose-response' });
    const { stack, material, error } = await deployOne('FaultLost');
    expect(error).toBeUndefined();
    const imports = cloud.kms.calls.filter((c) => c.operation === 'ImportKeyMaterial');
    // Applied-but-lost, the SDK's retry with the spent token refused, then a fresh token accepted.
    expect(imports.map((c) => c.fault ?? c.errorType ?? c.status)).toEqual(['lose-response', 'InvalidImportTokenException', 200]);
    expect(cloud.kms.calls.filter((c) => c.operation === 'GetParametersForImport')).toHaveLength(2);
    expect(stack!.invocations[0].logs).toMatch(/import token refused, starting over with fresh parameters/);
    expect(fingerprints(cloud, keyArnOf(stack))).toEqual([sha256(material)]);
  });

  test('an import token that expires in flight is replaced and the import succeeds', async () => {
    cloud.kms.injectFault({ operation: 'ImportKeyMaterial', kind: 'delay', delayMs: 2500 });
    const deploying = deployOne('FaultExpiredToken');
    while (!cloud.kms.calls.some((c) => c.operation === 'GetParametersForImport')) await new Promise((r) => setTimeout(r, 20));
    cloud.kms.clock.advance(25 * 3600_000);
    const { stack, material, error } = await deploying;
    cloud.kms.clock.set(new Date());
    expect(error).toBeUndefined();
    const imports = cloud.kms.calls.filter((c) => c.operation === 'ImportKeyMaterial');
    expect(imports.map((c) => c.errorType ?? c.status)).toEqual(['ExpiredImportTokenException', 200]);
    expect(fingerprints(cloud, keyArnOf(stack))).toEqual([sha256(material)]);
  });

  test('a Lambda nearing its timeout answers CloudFormation with a failure before the deadline', async () => {
    cloud.kms.injectFault({ operation: 'GetParametersForImport', kind: 'delay', delayMs: 30_000 });
    const { error } = await deployOne('FaultTimeout', { lambdaTimeoutMs: 18_000, rollback: false });
    expect(error?.reason).toMatch(/^\[Timeout\] the import did not finish within 3 s and was stopped so that CloudFormation gets an answer/);
  }, 60_000);

  test('20 keys in one stack import in parallel, each with its own material', async () => {
    const materials = Array.from({ length: 20 }, () => randomBytes(32));
    const arns = await Promise.all(materials.map((m, i) => cloud.createSecret(`par/${i}-${randomBytes(4).toString('hex')}`, { secretString: m.toString('base64') })));
    const outdir = synth((s) => materials.forEach((_, i) => new ExternalKey(s, `Key${i}`, { material: KeyMaterial.fromSecret(secretByArn(s, `S${i}`, arns[i])), wrappingKeySpec: WrappingKeySpec.RSA_2048 })), 'Parallel');
    const stack = await cloud.deploy(outdir, 'Parallel', { concurrency: 20 });
    const imports = stack.invocations.filter((i) => i.event.RequestType === 'Create');
    expect(imports).toHaveLength(20);
    // They ran in parallel: most handler invocations started before another had finished.
    const spans = imports.map((i) => [i.startedAt, i.startedAt + i.durationMs]);
    const overlapping = spans.filter(([s1], i) => spans.some(([s2, e2], j) => i !== j && s2 <= s1 && s1 < e2));
    expect(overlapping.length).toBeGreaterThan(10);
    for (const [i, m] of materials.entries()) {
      const logicalId = stack.logicalIdsOfType('Custom::KmsKeyMaterialImport').find((id) => id.startsWith(`Key${i}Import`))!;
      const keyArn = stack.resources[logicalId].attributes.KeyArn;
      expect(fingerprints(cloud, keyArn)).toEqual([sha256(m)]);
      expect((await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    }
    expectEveryInvocationAnswered(stack);
  }, 120_000);
});
