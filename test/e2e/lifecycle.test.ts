import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GetParametersForImportCommand, ImportKeyMaterialCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Duration } from 'aws-cdk-lib';
import { ExternalKey, KeyMaterial, KeyMaterialExpiration, WrappingKeySpec } from '../../lib';
import { wrapKeyMaterial } from '../../lambda/wrap';
import { DeploymentFailed, LocalCloud, LocalStack } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, sha256, synth } from './util';

const DAY = 86400_000;
// RSA_2048 wrapping keys: the emulator generates a fresh pair per GetParametersForImport, and an
// RSA_4096 one costs about a second of CPU; this file is about expiry, renewal and rotation.
const wrappingKeySpec = WrappingKeySpec.RSA_2048;
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

const kms = () => cloud.kmsClient();
const keyArnOf = (stack: LocalStack, prefix: string) => stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport').find((id) => id.startsWith(prefix))!].attributes.KeyArn;
const describe_ = async (keyArn: string) => (await kms().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
async function newSecret(material: Buffer): Promise<{ arn: string; version: string }> {
  const arn = await cloud.createSecret(`life/${randomBytes(5).toString('hex')}`, { secretString: material.toString('base64') });
  const { VersionId } = await cloud.secretsClient().send(new GetSecretValueCommand({ SecretId: arn }));
  return { arn, version: VersionId! };
}
async function putVersion(arn: string, material: Buffer): Promise<string> {
  return (await cloud.secretsClient().send(new PutSecretValueCommand({ SecretId: arn, SecretString: material.toString('base64') }))).VersionId!;
}

describe('expiry and renewal', () => {
  test('renewed material never leaves Enabled; material without renewal expires into PendingImport', async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const [sa, sb] = await Promise.all([newSecret(a), newSecret(b)]);
    const outdir = synth((s) => {
      const renewed = new ExternalKey(s, 'Renewed', {
        material: KeyMaterial.fromSecret(secretByArn(s, 'SA', sa.arn)), expiration: KeyMaterialExpiration.after(Duration.days(30)), renewEvery: Duration.days(7), wrappingKeySpec,
      });
      renewed.addExpirationAlarm('ExpirationAlarm', { threshold: Duration.days(10) });
      new ExternalKey(s, 'Expiring', { material: KeyMaterial.fromSecret(secretByArn(s, 'SB', sb.arn)), expiration: KeyMaterialExpiration.after(Duration.days(30)), wrappingKeySpec });
    }, 'Expiry');
    const stack = await cloud.deploy(outdir, 'Expiry');
    const renewed = keyArnOf(stack, 'Renewed');
    const expiring = keyArnOf(stack, 'Expiring');
    const start = cloud.kms.clock.now().getTime();
    expect((await describe_(renewed)).ValidTo!.getTime()).toBeGreaterThan(start + 30 * DAY - 60_000);

    // Three weeks later the weekly schedules have fired (once is enough to show the path).
    cloud.kms.clock.advance(21 * DAY);
    const fired = await stack.fireSchedules();
    expect(fired.map((f) => f.exitCode)).toEqual([0]);
    expect(fired[0].logs).toMatch(/"message":"renewed key material"/);
    expect((await describe_(renewed)).ValidTo!.getTime()).toBeGreaterThan(start + 51 * DAY - 60_000);

    // Day 35: past the first 30 days.
    cloud.kms.clock.advance(14 * DAY);
    expect(await describe_(renewed)).toMatchObject({ KeyState: 'Enabled', ExpirationModel: 'KEY_MATERIAL_EXPIRES' });
    const plaintext = randomBytes(16);
    const { CiphertextBlob } = await kms().send(new EncryptCommand({ KeyId: renewed, Plaintext: plaintext }));
    expect(Buffer.from((await kms().send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).equals(plaintext)).toBe(true);
    expect((await describe_(expiring)).KeyState).toBe('PendingImport');

    // The alarm that would have warned: the metric KMS publishes, with the threshold asked for.
    const template = JSON.parse(fs.readFileSync(path.join(outdir, 'Expiry.template.json'), 'utf8'));
    const alarm = Object.values(template.Resources).find((r: any) => r.Type === 'AWS::CloudWatch::Alarm') as any;
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/KMS', MetricName: 'SecondsUntilKeyMaterialExpiration', Threshold: 10 * 86400, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    cloud.kms.clock.set(new Date());
  });

  test('changing the expiry re-imports the same material into the same key', async () => {
    const material = randomBytes(32);
    const { arn } = await newSecret(material);
    const build = (expiration?: KeyMaterialExpiration) => synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)), expiration, wrappingKeySpec }); }, 'Expiry2');
    const stack = await cloud.deploy(build(), 'Expiry2');
    const keyArn = keyArnOf(stack, 'Key');
    expect((await describe_(keyArn)).ExpirationModel).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    await stack.apply(build(KeyMaterialExpiration.after(Duration.days(90))));
    expect(keyArnOf(stack, 'Key')).toBe(keyArn);
    const meta = await describe_(keyArn);
    expect(meta.ExpirationModel).toBe('KEY_MATERIAL_EXPIRES');
    expect(Math.abs(meta.ValidTo!.getTime() - (cloud.kms.clock.now().getTime() + 90 * DAY))).toBeLessThan(120_000);
    expect(stack.invocations.map((i) => i.event.RequestType)).toEqual(['Create', 'Update']);
    expect(fingerprints(cloud, keyArn)).toEqual([sha256(material)]);
  });
});

describe('rotation to new material', () => {
  const v1 = randomBytes(32);
  const v2 = randomBytes(32);
  let secretArn: string;
  let stack: LocalStack;
  let keyArn: string;
  let oldCiphertext: Uint8Array;
  const plaintext = randomBytes(20);
  const build = (versionId: string) => synth((s) => {
    new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn), { versionId }), rotateOnNewMaterial: true, wrappingKeySpec });
  }, 'Rotation');

  beforeAll(async () => {
    const first = await newSecret(v1);
    secretArn = first.arn;
    stack = await cloud.deploy(build(first.version), 'Rotation');
    keyArn = keyArnOf(stack, 'Key');
    oldCiphertext = (await kms().send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }))).CiphertextBlob!;
  });

  test('a new secret version rotates the key: new KeyMaterialId, and data encrypted before still decrypts', async () => {
    const firstId = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyMaterialId;
    await stack.apply(build(await putVersion(secretArn, v2)));
    const secondId = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyMaterialId;
    expect(secondId).toMatch(/^[0-9a-f]{64}$/);
    expect(secondId).not.toBe(firstId);
    expect((await describe_(keyArn)).CurrentKeyMaterialId).toBe(secondId);
    expect(fingerprints(cloud, keyArn).sort()).toEqual([sha256(v1), sha256(v2)].sort());
    expect(Buffer.from((await kms().send(new DecryptCommand({ CiphertextBlob: oldCiphertext }))).Plaintext!).equals(plaintext)).toBe(true);
  });

  test('a second pending rotation is refused clearly, and the rollback leaves the key usable', async () => {
    // Someone imported new material by hand and did not rotate to it.
    const params = await kms().send(new GetParametersForImportCommand({ KeyId: keyArn, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    await kms().send(new ImportKeyMaterialCommand({
      KeyId: keyArn, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapKeyMaterial(randomBytes(32), params.PublicKey!, 'RSAES_OAEP_SHA_256'),
      ImportType: 'NEW_KEY_MATERIAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    }));
    const failure = await stack.apply(build(await putVersion(secretArn, randomBytes(32)))).catch((e) => e);
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure.reason).toMatch(/^\[Rotation\] key arn:aws:kms:.* already has new key material pending rotation.*KMS allows one at a time\. Finish it \(RotateKeyOnDemand\) or delete it/);
    const rollback = stack.invocations[stack.invocations.length - 1];
    expect(rollback.event.RequestType).toBe('Update');
    expect(rollback.answers[0].Status).toBe('SUCCESS');
    expect((await describe_(keyArn)).KeyState).toBe('Enabled');
    expect(Buffer.from((await kms().send(new DecryptCommand({ CiphertextBlob: oldCiphertext }))).Plaintext!).equals(plaintext)).toBe(true);
    const { CiphertextBlob } = await kms().send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
    expect(Buffer.from((await kms().send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).equals(plaintext)).toBe(true);
  });
});
