import { randomBytes } from 'crypto';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { RemovalPolicy } from 'aws-cdk-lib';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, PartnerAccess, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { DeploymentFailed, LocalCloud } from '../../testing/harness';
import { expectEveryInvocationAnswered, fingerprints, RAISED_QUOTAS, REGION, secretByArn, sha256, synth } from './util';

let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

async function newSecret(material: Buffer, encoding: 'base64' | 'hex' | 'binary' = 'base64'): Promise<string> {
  const name = `byok/${randomBytes(6).toString('hex')}`;
  return cloud.createSecret(name, encoding === 'binary' ? { secretBinary: material } : { secretString: material.toString(encoding) });
}

async function roundTrip(keyArn: string): Promise<boolean> {
  const kms = cloud.kmsClient();
  const plaintext = randomBytes(40);
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  return Buffer.from(Plaintext!).equals(plaintext);
}

describe('symmetric key material from Secrets Manager, end to end', () => {
  test('every wrapping algorithm with every wrapping key size imports exactly the secret\'s bytes', async () => {
    const algorithms = Object.values(WrappingAlgorithm);
    const sizes = Object.values(WrappingKeySpec);
    const cells = algorithms.flatMap((a) => sizes.map((s) => ({ a, s, material: randomBytes(32) })));
    const arns = await Promise.all(cells.map((c) => newSecret(c.material)));
    const outdir = synth((stack) => cells.forEach((c, i) => {
      new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secretByArn(stack, `S${i}`, arns[i])), wrappingAlgorithm: c.a, wrappingKeySpec: c.s });
    }));
    const stack = await cloud.deploy(outdir, 'E2E');
    expect(stack.logicalIdsOfType('AWS::Lambda::Function')).toHaveLength(1);
    const imports = stack.logicalIdsOfType('Custom::KmsKeyMaterialImport');
    expect(imports).toHaveLength(12);
    for (const [i, c] of cells.entries()) {
      const logicalId = imports.find((id) => id.startsWith(`Key${i}Import`))!;
      const keyArn = stack.resources[logicalId].attributes.KeyArn;
      expect({ cell: `${c.a}/${c.s}`, fingerprints: fingerprints(cloud, keyArn) }).toEqual({ cell: `${c.a}/${c.s}`, fingerprints: [sha256(c.material)] });
      expect(stack.resources[logicalId].attributes.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);
    }
    const firstKey = stack.resources[imports[0]].attributes.KeyArn;
    expect(await roundTrip(firstKey)).toBe(true);
    expectEveryInvocationAnswered(stack);
  });

  test.each([['hex', KeyMaterialEncoding.HEX], ['binary', KeyMaterialEncoding.BINARY]] as const)('a %s secret imports', async (encoding, enc) => {
    const material = randomBytes(32);
    const arn = await newSecret(material, encoding);
    const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), { encoding: enc }) }); });
    const stack = await cloud.deploy(outdir, 'E2E');
    expect(fingerprints(cloud, stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn)).toEqual([sha256(material)]);
  });

  test('one field of a JSON secret imports', async () => {
    const material = randomBytes(32);
    const arn = await cloud.createSecret(`byok/${randomBytes(6).toString('hex')}`, { secretString: JSON.stringify({ note: 'x', keyMaterial: material.toString('base64') }) });
    const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), { jsonField: 'keyMaterial' }) }); });
    const stack = await cloud.deploy(outdir, 'E2E');
    expect(fingerprints(cloud, stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn)).toEqual([sha256(material)]);
  });

  describe('one key through its whole life', () => {
    const material = randomBytes(32);
    let arn: string;
    let firstVersion: string;
    let stack: Awaited<ReturnType<LocalCloud['deploy']>>;
    let keyArn: string;
    const importId = () => stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0];

    beforeAll(async () => {
      arn = await newSecret(material);
      firstVersion = (await cloud.secretsClient().send(new GetSecretValueCommand({ SecretId: arn }))).VersionId!;
      // Pinned versions make updates and their rollbacks exact (see the README, "Lifecycle").
      const outdir = synth((s) => {
        new ExternalKey(s, 'Key', {
          material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), { versionId: firstVersion }),
          alias: 'alias/bluescape-workspace',
          partners: [PartnerAccess.account('123456789012')],
        });
      }, 'Life');
      stack = await cloud.deploy(outdir, 'Life');
      keyArn = stack.resources[importId()].attributes.KeyArn;
    });

    test('the key is Enabled, holds the secret\'s material, and the alias points at it', async () => {
      const { KeyMetadata } = await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: 'alias/bluescape-workspace' }));
      expect(KeyMetadata).toMatchObject({ Arn: keyArn, KeyState: 'Enabled', Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
      expect(fingerprints(cloud, keyArn)).toEqual([sha256(material)]);
      expect(await roundTrip(keyArn)).toBe(true);
    });

    test('a retried Create (the same event again) succeeds on a key that already holds the material', async () => {
      const create = stack.invocations.find((i) => i.logicalId === importId() && i.event.RequestType === 'Create')!;
      expect(await stack.replay(create)).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: keyArn })]);
      expect(fingerprints(cloud, keyArn)).toEqual([sha256(material)]);
    });

    test('new material in a pinned version is refused with a readable reason, and the key keeps its material', async () => {
      const other = randomBytes(32);
      const { VersionId } = await cloud.secretsClient().send(new PutSecretValueCommand({ SecretId: arn, SecretString: other.toString('base64') }));
      const next = synth((s) => {
        new ExternalKey(s, 'Key', {
          material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), { versionId: VersionId }),
          alias: 'alias/bluescape-workspace',
          partners: [PartnerAccess.account('123456789012')],
        });
      }, 'Life');
      const failure = await stack.apply(next).catch((e) => e);
      expect(failure).toBeInstanceOf(DeploymentFailed);
      expect(failure.reason).toMatch(/^\[MaterialMismatch\] KMS refused the material from secret .* the key keeps that material/);
      expect(failure.reason).not.toContain(other.toString('base64'));
      expect(fingerprints(cloud, keyArn)).toEqual([sha256(material)]);
      expect(await roundTrip(keyArn)).toBe(true);
      // CloudFormation's rollback sent Update back to the old properties: that must succeed too.
      const rollback = stack.invocations.filter((i) => i.logicalId === importId()).pop()!;
      expect(rollback.event.RequestType).toBe('Update');
      expect(rollback.answers[0].Status).toBe('SUCCESS');
    });

    test('deleting the stack leaves the (retained) key and its material alone', async () => {
      await stack.destroy();
      const { KeyMetadata } = await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }));
      expect(KeyMetadata?.KeyState).toBe('Enabled');
      expect(await roundTrip(keyArn)).toBe(true);
      expectEveryInvocationAnswered(stack);
    });
  });

  test('deleteMaterialOnRemoval deletes the material when the key leaves the stack', async () => {
    const arn = await newSecret(randomBytes(32));
    const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)), deleteMaterialOnRemoval: true, removalPolicy: RemovalPolicy.RETAIN }); }, 'Shred');
    const stack = await cloud.deploy(outdir, 'Shred');
    const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
    await stack.destroy();
    const { KeyMetadata } = await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }));
    expect(KeyMetadata?.KeyState).toBe('PendingImport');
  });

  test('material of the wrong length fails the deployment with the lengths, and the failure is answered', async () => {
    const arn = await newSecret(randomBytes(24));
    const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)) }); }, 'Short');
    const failure = await cloud.deploy(outdir, 'Short').catch((e) => e);
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure.reason).toMatch(/^\[MaterialFormat\] the material in secret arn:aws:secretsmanager:us-east-1:111122223333:secret:byok\/[0-9a-f]+-\w{6} is 24 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes \(256-bit\) \(resource KeyImport[0-9A-F]+\)$/);
  });
});
