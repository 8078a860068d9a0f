import { randomBytes, randomUUID } from 'crypto';
import { DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { CfnResource } from 'aws-cdk-lib';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration } from '../../lib';
import { DeploymentFailed, LocalCloud, LocalStack } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, sha256, synth } from './util';

let cloud: LocalCloud;
// Raised quotas: the imports here follow one another, and at KMS's default (one
// GetParametersForImport every 4 s) most of this file's time went to waiting for the quota.
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

const describeKey = async (keyArn: string) => (await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!;
const newSecret = (value: { secretString?: string; secretBinary?: Uint8Array }) => cloud.createSecret(`hardening/${randomBytes(6).toString('hex')}`, value);
const importIds = (stack: LocalStack) => stack.logicalIdsOfType('Custom::KmsKeyMaterialImport');
const importOf = (stack: LocalStack, prefix: string) => importIds(stack).find((id) => id.startsWith(prefix))!;
const keyArnOf = (stack: LocalStack, prefix: string) => stack.resources[importOf(stack, prefix)].attributes.KeyArn;

describe('a failed first deploy leaves no live key', () => {
  test('the key that did import is scheduled for deletion when the stack\'s creation rolls back', async () => {
    const good = randomBytes(32);
    const [goodArn, badArn] = await Promise.all([newSecret({ secretString: good.toString('base64') }), newSecret({ secretString: randomBytes(16).toString('base64') })]);
    const outdir = synth((s) => {
      const first = new ExternalKey(s, 'Good', { material: KeyMaterial.fromSecret(secretByArn(s, 'SG', goodArn)) });
      // Created after Good imported: its import fails on 16-byte material.
      const second = new ExternalKey(s, 'Bad', { material: KeyMaterial.fromSecret(secretByArn(s, 'SB', badArn)), description: first.keyArn });
      second.node.addDependency(first);
    }, 'FirstDeploy');
    const failure = await cloud.deploy(outdir, 'FirstDeploy').catch((e) => e);
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure.reason).toMatch(/^\[MaterialFormat\]/);
    const { Keys } = await cloud.kmsClient().send(new ListKeysCommand({}));
    const goodKey = Keys!.map((k) => k.KeyArn!).find((arn) => fingerprints(cloud, arn).includes(sha256(good)))!;
    expect(goodKey).toBeDefined();
    expect((await describeKey(goodKey)).KeyState).toBe('PendingDeletion');
  });
});

describe('the handler acts only on events CloudFormation sent for its own stack', () => {
  let stack: LocalStack;
  let keyArn: string;
  let otherSecret: string;
  let create: Record<string, any>;
  const material = randomBytes(32);

  beforeAll(async () => {
    const secret = await newSecret({ secretString: material.toString('base64') });
    otherSecret = await newSecret({ secretString: randomBytes(32).toString('base64') });
    const outdir = synth((s) => {
      new ExternalKey(s, 'Shred', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secret)), deleteMaterialOnRemoval: true, rotateOnNewMaterial: true });
      // Its secret is one the shared role may read: a forged Update could point the key above at it.
      new ExternalKey(s, 'Other', { material: KeyMaterial.fromSecret(secretByArn(s, 'O', otherSecret)) });
    }, 'Origin');
    stack = await cloud.deploy(outdir, 'Origin');
    keyArn = keyArnOf(stack, 'Shred');
    create = stack.invocations.find((i) => i.logicalId === importOf(stack, 'Shred'))!.event;
  });

  const forge = (overrides: Record<string, any>) => stack.invoke(create.ServiceToken, { ...create, RequestId: randomUUID(), ResponseURL: cloud.responses.newUrl(), ...overrides });
  async function expectKeyUnchanged() {
    expect(await describeKey(keyArn)).toMatchObject({ KeyState: 'Enabled' });
    expect(fingerprints(cloud, keyArn)).toEqual([sha256(material)]);
  }

  test('a hand-built Delete of a key that opted into deleteMaterialOnRemoval is refused, CloudFormation not confirming it, and the material stays', async () => {
    const { answers } = await forge({ RequestType: 'Delete', PhysicalResourceId: keyArn });
    expect(answers).toEqual([expect.objectContaining({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^\[UntrustedEvent\] CloudFormation does not confirm this Delete of resource ShredImport[0-9A-F]+: its status is CREATE_COMPLETE, not DELETE_IN_PROGRESS; nothing was changed/),
    })]);
    expect(cloud.kms.calls.some((c) => c.operation === 'DeleteImportedKeyMaterial')).toBe(false);
    await expectKeyUnchanged();
  });

  test('a hand-built Update that points the key at another readable secret is refused and rotates nothing', async () => {
    const material2 = { ...create.ResourceProperties.Material, SecretArn: otherSecret };
    const { answers } = await forge({ RequestType: 'Update', PhysicalResourceId: keyArn, ResourceProperties: { ...create.ResourceProperties, Material: material2 }, OldResourceProperties: create.ResourceProperties });
    expect(answers).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: expect.stringMatching(/^\[UntrustedEvent\] .*its status is CREATE_COMPLETE, not UPDATE_IN_PROGRESS; nothing was changed/) })]);
    await expectKeyUnchanged();
  });

  test('an event for another stack is refused, naming both stacks, before any call', async () => {
    const otherStack = 'arn:aws:cloudformation:us-east-1:111122223333:stack/Elsewhere/00000000-0000-4000-8000-000000000000';
    const before = cloud.cloudFormation.calls.length;
    const { answers } = await forge({ RequestType: 'Delete', PhysicalResourceId: keyArn, StackId: otherStack });
    expect(answers).toEqual([expect.objectContaining({ Status: 'FAILED', Reason: `[UntrustedEvent] the event is for stack ${otherStack}, but this function belongs to stack ${stack.stackId}; a stack must use its own import handler (nothing was changed) (resource ${create.LogicalResourceId})` })]);
    expect(cloud.cloudFormation.calls.length).toBe(before);
    await expectKeyUnchanged();
  });

  test('a ResponseURL that is not HTTPS is refused: nothing is sent there, the invoker gets the error', async () => {
    const invocation = await forge({ RequestType: 'Delete', PhysicalResourceId: keyArn, ResponseURL: 'http://127.0.0.1:9/answer' });
    expect(invocation.exitCode).toBe(1);
    expect(invocation.logs).toContain('"errorMessage":"the event\'s ResponseURL is not HTTPS (http:); CloudFormation always sends a pre-signed HTTPS URL; nothing was changed"');
    await expectKeyUnchanged();
  });

  test('the real Delete, confirmed by CloudFormation, still deletes the material', async () => {
    await stack.destroy();
    const deletes = stack.invocations.filter((i) => i.event.RequestType === 'Delete' && i.logicalId === importOf(stack, 'Shred'));
    expect(deletes.map((d) => d.answers[0]?.Status)).toEqual(['SUCCESS']);
    expect((await describeKey(keyArn)).KeyState).toBe('PendingImport');
  });
});

describe('a replaced custom resource', () => {
  test('gets the Delete CloudFormation sends to the old physical id, with the old properties; the handler does not shred a key it cannot confirm', async () => {
    const material = randomBytes(32);
    const secret = await newSecret({ secretString: material.toString('base64') });
    const build = (pointAtSecond: boolean) => synth((s) => {
      const first = new ExternalKey(s, 'First', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secret)), deleteMaterialOnRemoval: true });
      const second = new ExternalKey(s, 'Second', { material: KeyMaterial.fromSecret(secretByArn(s, 'S2', secret)) });
      if (pointAtSecond) (first.node.findChild('Import').node.defaultChild as CfnResource).addPropertyOverride('KeyArn', second.cfnKey.attrArn);
    }, 'Replace');
    const stack = await cloud.deploy(build(false), 'Replace');
    const firstKey = keyArnOf(stack, 'First');
    const secondKey = keyArnOf(stack, 'Second');
    const importId = importOf(stack, 'First');
    await stack.apply(build(true));
    expect(stack.resources[importId].physicalId).toBe(secondKey);
    const cleanup = stack.invocations.filter((i) => i.logicalId === importId).pop()!;
    expect(cleanup.event).toMatchObject({ RequestType: 'Delete', PhysicalResourceId: firstKey, ResourceProperties: { KeyArn: firstKey, DeleteMaterialOnRemoval: 'true' } });
    expect(cleanup.answers).toEqual([expect.objectContaining({
      Status: 'FAILED',
      Reason: expect.stringContaining(`its physical id is ${secondKey}, not ${firstKey}; nothing was changed. If this is the clean-up after the key was replaced, the replaced key keeps its material`),
    })]);
    expect((await describeKey(firstKey)).KeyState).toBe('Enabled');
  });
});

describe('raw-byte secrets with defaults', () => {
  test('a SecretBinary (as --secret-binary fileb:// stores it) imports with no encoding given', async () => {
    const material = randomBytes(32);
    const arn = await newSecret({ secretBinary: material });
    const stack = await cloud.deploy(synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)) }); }, 'Binary'), 'Binary');
    expect(fingerprints(cloud, keyArnOf(stack, 'Key'))).toEqual([sha256(material)]);
  });

  test('an explicit encoding that contradicts the secret still fails clearly', async () => {
    const arn = await newSecret({ secretBinary: randomBytes(32) });
    const failure = await cloud.deploy(synth((s) => {
      new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), { encoding: KeyMaterialEncoding.BASE64 }) });
    }, 'BinaryAsBase64'), 'BinaryAsBase64').catch((e) => e);
    expect(failure.reason).toMatch(/^\[MaterialEncoding\] secret arn:\S+ holds a SecretBinary, but the encoding is BASE64; a SecretBinary is read as raw bytes/);
  });
});

describe('an expiration date that has passed', () => {
  test('synthesizes, and the import fails with Expiration', async () => {
    const arn = await newSecret({ secretString: randomBytes(32).toString('base64') });
    const outdir = synth((s) => {
      new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)), expiration: KeyMaterialExpiration.at(new Date('2021-06-01T00:00:00Z')) });
    }, 'Past');
    const failure = await cloud.deploy(outdir, 'Past').catch((e) => e);
    expect(failure.reason).toMatch(/^\[Expiration\] the expiration date 2021-06-01T00:00:00.000Z has passed; set a new KeyMaterialExpiration and deploy again/);
  });
});
