import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { secretKeyPolicyStatement } from '../../bin/secret-access-stack';
import { ExternalKey, ExternalKeyReplica, KeyMaterial, PrimaryKey } from '../../lib';
import { DeploymentFailed, LocalCloud, LocalStack } from '../../testing/harness';
import { ACCOUNT, fingerprints, RAISED_QUOTAS, secretByArn, sha256, stackNames, synth, synthExampleApp } from './util';

const OTHER_ACCOUNT = '444455556666';
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: 'us-east-1', accounts: [OTHER_ACCOUNT], ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

const keyArnOf = (stack: LocalStack) => stack.outputs.KeyArn ?? stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;

describe('multi-Region keys with imported material', () => {
  test('a primary and two replicas hold the same material: data encrypted in one region decrypts in the others', async () => {
    const material = randomBytes(32);
    const secretArn = await cloud.createSecret(`mrk/${randomBytes(4).toString('hex')}`, { secretString: material.toString('base64') });
    const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
    const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn)), multiRegion: true, alias: 'alias/mrk-e2e' }); }, 'Primary', { account: ACCOUNT, region: regions[0] });
    const primary = await cloud.deploy(outdir, 'Primary');
    const replicas: LocalStack[] = [];
    for (const region of regions.slice(1)) {
      const dir = synth((s) => {
        new ExternalKeyReplica(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn)), primaryKey: PrimaryKey.fromAlias(regions[0], 'alias/mrk-e2e'), alias: 'alias/mrk-e2e' });
      }, `Replica${region.replace(/-/g, '')}`, { account: ACCOUNT, region });
      replicas.push(await cloud.deploy(dir, `Replica${region.replace(/-/g, '')}`));
    }
    const arns = [primary, ...replicas].map(keyArnOf);
    expect(new Set(arns.map((a) => a.split('/')[1])).size).toBe(1);
    expect(arns.map((a) => a.split(':')[3])).toEqual(regions);
    for (const arn of arns) expect(fingerprints(cloud, arn)).toEqual([sha256(material)]);
    const materialIds = [primary, ...replicas].map((s) => s.resources[s.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyMaterialId);
    expect(new Set(materialIds).size).toBe(1);
    for (const [i, from] of regions.entries()) {
      const plaintext = randomBytes(24);
      const { CiphertextBlob } = await cloud.kmsClient(from).send(new EncryptCommand({ KeyId: arns[i], Plaintext: plaintext }));
      for (const [j, to] of regions.entries()) {
        const { Plaintext } = await cloud.kmsClient(to).send(new DecryptCommand({ KeyId: arns[j], CiphertextBlob }));
        expect(Buffer.from(Plaintext!).equals(plaintext)).toBe(true);
      }
    }
  });

  test('a replica pointed at different material fails clearly and stays without material', async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const [arnA, arnB] = await Promise.all([a, b].map((m) => cloud.createSecret(`mrk/${randomBytes(4).toString('hex')}`, { secretString: m.toString('base64') })));
    const primary = await cloud.deploy(synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arnA)), multiRegion: true, alias: 'alias/mrk-bad' }); }, 'PrimaryBad', { account: ACCOUNT, region: 'us-west-2' }), 'PrimaryBad');
    const dir = synth((s) => { new ExternalKeyReplica(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arnB)), primaryKey: PrimaryKey.fromAlias('us-west-2', 'alias/mrk-bad') }); }, 'ReplicaBad', { account: ACCOUNT, region: 'eu-central-1' });
    const failure = await cloud.deploy(dir, 'ReplicaBad').catch((e) => e);
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure.reason).toMatch(/^\[MaterialMismatch\] KMS refused the material from secret .* for key arn:aws:kms:eu-central-1:111122223333:key\/mrk-/);
    expect(fingerprints(cloud, keyArnOf(primary))).toEqual([sha256(a)]);
    // The replica itself never got material: b was refused, and the primary's material it knows of
    // (replicas share it) is still pending import there.
    const replicaArn = /for key (arn:aws:kms:eu-central-1:111122223333:key\/mrk-[0-9a-f]+)/.exec(failure.reason)![1];
    const replica = cloud.kms.inspectKey(replicaArn)!;
    expect(replica.keyArn).toBe(replicaArn);
    expect(replica.materials.map((m) => [m.importState, m.sha256])).toEqual([['PENDING_IMPORT', sha256(a)]]);
  });

  test('a replica whose primary was never deployed fails with what to do', async () => {
    const arn = await cloud.createSecret(`mrk/${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') });
    const dir = synth((s) => { new ExternalKeyReplica(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)), primaryKey: PrimaryKey.fromAlias('sa-east-1', 'alias/nowhere') }); }, 'Orphan', { account: ACCOUNT, region: 'eu-north-1' });
    const failure = await cloud.deploy(dir, 'Orphan').catch((e) => e);
    expect(failure.reason).toMatch(/^\[KeyState\] primary key alias\/nowhere in sa-east-1 was not found; deploy the primary key's stack first/);
  });
});

describe('the example app across accounts and regions', () => {
  const regions = ['us-east-1', 'eu-west-1', 'ap-northeast-1'];
  const accounts = [ACCOUNT, OTHER_ACCOUNT];
  let secretArn: string;
  let secretKeyArn: string;
  let material: Buffer;
  const config = (r: string[]) => ({ byok: { partnerAccountIds: ['123456789012'], alias: 'alias/bluescape-workspace', secretArn, secretKeyArn, accounts, regions: r } });

  beforeAll(async () => {
    material = randomBytes(32);
    // Read from another account: a customer managed key whose policy lets that account decrypt
    // through Secrets Manager (docs/cross-account-secrets.md); the app adds the secret's resource policy.
    const policy = { Version: '2012-10-17', Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
      secretKeyPolicyStatement([OTHER_ACCOUNT], 'us-east-1'),
    ] };
    secretKeyArn = (await cloud.kmsClient().send(new CreateKeyCommand({ Policy: JSON.stringify(policy) }))).KeyMetadata!.Arn!;
    secretArn = await cloud.createSecret(`app/${randomBytes(4).toString('hex')}`, { secretString: material.toString('base64'), kmsKeyId: secretKeyArn });
  });

  const templates = (dir: string) => Object.fromEntries(stackNames(dir).map((n) => [n, fs.readFileSync(path.join(dir, `${n}.template.json`), 'utf8')]));

  test('3 regions x 2 accounts: every key imports; resynth is byte-identical; a new region adds only its stacks; a redeploy changes nothing', async () => {
    const dir = synthExampleApp(config(regions));
    const names = stackNames(dir).filter((n) => n.startsWith('PartnerKey-'));
    expect(names.sort()).toEqual(accounts.flatMap((a) => regions.map((r) => `PartnerKey-${a}-${r}`)).sort());
    expect(stackNames(dir)).toContain(`ByokSecretAccess-${ACCOUNT}-us-east-1`);
    await cloud.deploy(dir, `ByokSecretAccess-${ACCOUNT}-us-east-1`);
    const deployed = await Promise.all(names.map((n) => cloud.deploy(dir, n)));
    for (const stack of deployed) {
      expect(stack.outputs.KeyArn).toMatch(new RegExp(`^arn:aws:kms:${stack.region}:${stack.account}:key/`));
      expect(fingerprints(cloud, stack.outputs.KeyArn)).toEqual([sha256(material)]);
      const { KeyMetadata } = await cloud.kmsClient(stack.region, stack.account).send(new DescribeKeyCommand({ KeyId: 'alias/bluescape-workspace' }));
      expect(KeyMetadata?.Arn).toBe(stack.outputs.KeyArn);
    }
    expect(new Set(deployed.map((s) => s.outputs.KeyArn)).size).toBe(6);

    const again = synthExampleApp(config(regions));
    expect(templates(again)).toEqual(templates(dir));

    const grown = synthExampleApp(config([...regions, 'eu-south-1']));
    const before = templates(dir);
    const after = templates(grown);
    const added = Object.keys(after).filter((n) => !(n in before));
    expect(added.sort()).toEqual(accounts.map((a) => `PartnerKey-${a}-eu-south-1`).sort());
    for (const n of Object.keys(before)) expect(after[n]).toEqual(before[n]);

    // Redeploying unchanged templates: no custom resource event at all, and so no KMS write.
    cloud.kms.clearCalls();
    const invocationsBefore = deployed.map((s) => s.invocations.length);
    await Promise.all(deployed.map((s) => s.apply(again)));
    expect(deployed.map((s) => s.invocations.length)).toEqual(invocationsBefore);
    expect(cloud.kms.calls.filter((c) => !/^(Describe|Get|List)/.test(c.operation))).toEqual([]);
  }, 240_000);

  test('a handler re-invoked with unchanged properties makes no KMS call that changes state', async () => {
    const dir = synthExampleApp({ byok: { partnerAccountIds: ['123456789012'], alias: 'alias/unchanged', secretArn, secretKeyArn, accounts: [ACCOUNT], regions: ['us-east-2'] } });
    const stack = await cloud.deploy(dir, `PartnerKey-${ACCOUNT}-us-east-2`);
    const create = stack.invocations.find((i) => i.event.RequestType === 'Create')!;
    cloud.kms.clearCalls();
    const answers = await stack.replay({ ...create, event: { ...create.event, RequestType: 'Update', PhysicalResourceId: stack.outputs.KeyArn, OldResourceProperties: create.event.ResourceProperties } });
    expect(answers).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: stack.outputs.KeyArn })]);
    expect(cloud.kms.calls.map((c) => c.operation)).toEqual(['DescribeKey']);
  });

  test('multiRegion config: one primary per account and replicas elsewhere, deployed in dependency order', async () => {
    const dir = synthExampleApp({ byok: { partnerAccountIds: ['123456789012'], alias: 'alias/mrk-app', secretArn, secretKeyArn, accounts: [ACCOUNT], regions: ['us-west-1', 'ca-central-1', 'eu-west-3'], multiRegion: true } });
    const names = stackNames(dir);
    const primary = await cloud.deploy(dir, `PartnerKey-${ACCOUNT}-us-west-1`);
    const replicas = await Promise.all(names.filter((n) => !n.endsWith('us-west-1')).map((n) => cloud.deploy(dir, n)));
    const keyIds = [primary, ...replicas].map((s) => s.outputs.KeyArn.split('/')[1]);
    expect(new Set(keyIds).size).toBe(1);
    expect(keyIds[0]).toMatch(/^mrk-/);
  });
});

