import { randomBytes } from 'crypto';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Duration } from 'aws-cdk-lib';
import { ExternalKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { DeploymentFailed, LocalCloud, LocalStack } from '../../testing/harness';
import { RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * Property: after any sequence of Create, Update, failed Update with rollback, and scheduled
 * renewal, the KeyMaterialId attribute CloudFormation holds is the material the key uses
 * (DescribeKey's CurrentKeyMaterialId). KMS cannot rotate back, so a rollback after a rotation
 * must report the newer material, not the one the rolled-back properties name.
 */
type Step = 'rotate' | 'failedRotate' | 'repinSame' | 'renew';
const STEPS: Step[] = ['rotate', 'failedRotate', 'repinSame', 'renew'];
const DAY = 86400_000;

let cloud: LocalCloud;
// The steps import one after another: at KMS's default quota (one GetParametersForImport every
// 4 s) most of the time would go to waiting for it, which is not what this file is about.
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); cloud?.kms.clock.set(new Date()); });

/** A small deterministic generator, so that a failing sequence can be replayed from its seed. */
function sequence(seed: number, length: number): Step[] {
  let x = seed;
  return Array.from({ length }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    // The high bits: an LCG's low bits repeat with a short period.
    return STEPS[(x >>> 16) % STEPS.length];
  });
}

async function check(steps: Step[], name: string): Promise<void> {
  const secrets = cloud.secretsClient();
  const put = async (material: Buffer) => (await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: material.toString('base64') }))).VersionId!;
  const secretArn = await cloud.createSecret(`material-id/${name}`, { secretString: randomBytes(32).toString('base64') });
  const badArn = await cloud.createSecret(`material-id/${name}-bad`, { secretString: randomBytes(16).toString('base64') });
  let pinned = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).VersionId!;
  let pinnedMaterial = Buffer.from((await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: pinned }))).SecretString!, 'base64');
  // RSA_2048 wrapping keys: the emulator generates a fresh pair per GetParametersForImport, and
  // an RSA_4096 one costs about a second of CPU; the wrapping is not what this file is about.
  const build = (versionId: string, breaker = false) => synth((s) => {
    const key = new ExternalKey(s, 'Key', {
      material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn), { versionId }), rotateOnNewMaterial: true,
      expiration: KeyMaterialExpiration.after(Duration.days(30)), renewEvery: Duration.days(7), wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
    // Fails after the key's update (it depends on the key): CloudFormation then rolls the key back.
    if (breaker) new ExternalKey(s, 'Breaker', { material: KeyMaterial.fromSecret(secretByArn(s, 'B', badArn)), wrappingKeySpec: WrappingKeySpec.RSA_2048 }).node.addDependency(key);
  }, name);

  const stack: LocalStack = await cloud.deploy(build(pinned), name);
  const importId = stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0];
  const keyArn = stack.resources[importId].attributes.KeyArn;
  const holds = async (after: string) => {
    const { KeyMetadata } = await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }));
    expect({ after, attribute: stack.resources[importId].attributes.KeyMaterialId }).toEqual({ after, attribute: KeyMetadata!.CurrentKeyMaterialId });
  };
  await holds('Create');
  for (const [i, step] of steps.entries()) {
    const label = `${i + 1}. ${step}`;
    if (step === 'rotate') {
      pinnedMaterial = randomBytes(32);
      pinned = await put(pinnedMaterial);
      await stack.apply(build(pinned));
    } else if (step === 'repinSame') {
      pinned = await put(pinnedMaterial);
      await stack.apply(build(pinned));
    } else if (step === 'failedRotate') {
      const failure = await stack.apply(build(await put(randomBytes(32)), true)).catch((e) => e);
      expect(failure).toBeInstanceOf(DeploymentFailed);
    } else {
      cloud.kms.clock.advance(7 * DAY);
      await stack.fireSchedules();
    }
    await holds(label);
  }
  await stack.destroy();
}

// Each step is a deployment of a handler process or more: generous on a loaded machine.
jest.setTimeout(240_000);

describe('the KeyMaterialId attribute is the material KMS uses', () => {
  test('Create, rotation, rotation rolled back, re-pin, renewal (the reviewed sequence)', async () => {
    await check(['rotate', 'failedRotate', 'repinSame', 'renew'], 'MaterialIdFixed');
  });

  test.each([42])('a generated sequence (seed %p)', async (seed) => {
    await check(sequence(seed, 4), `MaterialId${seed}`);
  });
});
