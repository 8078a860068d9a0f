/**
 * The sample consumer app (examples/consumer-app) tested offline with the kit, as a user of the
 * library would test their own stack. Its body is the example in docs/testing-kit.md ("Testing a
 * stack with jest"; readme.test.ts keeps the two equal), so the documented example is known to pass.
 */
import { createHash, randomBytes } from 'crypto';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { App } from 'aws-cdk-lib';
import { ConsumerStack } from '../../examples/consumer-app/consumer-stack';
import { DeployedApp, synthAndDeploy } from '../../testing';

// What `openssl rand -base64 32` would give you; kept here to compare fingerprints.
const material = randomBytes(32);
let deployed: DeployedApp;

beforeAll(async () => {
  // Starts the KMS emulator and the kit's Secrets Manager, synthesizes the app, and plays its
  // template: the real import handler from the cloud assembly imports the secret's material.
  deployed = await synthAndDeploy(async (cloud) => {
    const materialSecretArn = await cloud.createSecret('byok/key-material', { secretString: material.toString('base64') });
    const app = new App();
    new ConsumerStack(app, 'Consumer', { materialSecretArn });
    return app;
  });
}, 60_000);
afterAll(async () => {
  await deployed?.cloud.stop();
});

test('the key is Enabled and holds exactly the secret\'s material', async () => {
  const { cloud, outputs } = deployed;
  const { KeyMetadata } = await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: 'alias/consumer-data' }));
  expect(KeyMetadata).toMatchObject({ Arn: outputs.Consumer.KeyArn, KeyState: 'Enabled', Origin: 'EXTERNAL' });
  // The emulator shows fingerprints of imported material, never the material.
  const sha256 = createHash('sha256').update(material).digest('hex');
  expect(cloud.kms.inspectKey(outputs.Consumer.KeyArn)?.materials.map((m) => m.sha256)).toEqual([sha256]);
});

test('the bucket is created after the import, encrypted with the imported key', () => {
  const stack = deployed.stacks.Consumer;
  const [bucket] = stack.logicalIdsOfType('AWS::S3::Bucket');
  const [keyImport] = stack.logicalIdsOfType('Custom::KmsKeyMaterialImport');
  const created = (logicalId: string) => stack.events.find((e) => e.logicalId === logicalId && e.action === 'CREATE');
  expect(created(bucket)!.startedAt).toBeGreaterThanOrEqual(created(keyImport)!.endedAt);
  expect(stack.propertiesOf(bucket)?.BucketEncryption).toEqual({
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: deployed.outputs.Consumer.KeyArn } }],
  });
});

test('the reader function may decrypt with the key', () => {
  const stack = deployed.stacks.Consumer;
  const statements = stack.logicalIdsOfType('AWS::IAM::Policy')
    .filter((logicalId) => logicalId.startsWith('ReaderServiceRole'))
    .flatMap((logicalId) => stack.propertiesOf(logicalId)?.PolicyDocument.Statement);
  expect(statements).toContainEqual({
    Effect: 'Allow', Action: expect.arrayContaining(['kms:Decrypt']), Resource: deployed.outputs.Consumer.KeyArn,
  });
});

test('data encrypted under the key decrypts', async () => {
  const kms = deployed.cloud.kmsClient();
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: 'alias/consumer-data', Plaintext: Buffer.from('hello, offline') }));
  const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob }));
  expect(Buffer.from(decrypted.Plaintext!).toString()).toBe('hello, offline');
  expect(decrypted.KeyId).toBe(deployed.outputs.Consumer.KeyArn);
});

test('the import handler answered CloudFormation exactly once, with SUCCESS', () => {
  const { invocations } = deployed.stacks.Consumer;
  expect(invocations.map((i) => [i.event.RequestType, i.answers.map((a) => a.Status)])).toEqual([['Create', ['SUCCESS']]]);
});
