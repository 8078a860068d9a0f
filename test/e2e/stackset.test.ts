/**
 * Organization-wide BYOK through a service-managed StackSet (docs/organization.md): the material
 * secret in a security account, read by the import roles of the organization's accounts only, as
 * policy evaluation decides; the key stack deployed to an OU × 2 Regions with failure tolerance,
 * retried after a failure, and deployed automatically to an account that joins the OU.
 */
import { randomBytes } from 'crypto';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand, EncryptCommand, GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { App, CfnOutput } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ExternalKey, KeyMaterial, OrganizationKeyStack, OrganizationMaterialSecret, PartnerAccess } from '../../lib';
import { LocalCloud, LocalOrganization, LocalStackSet } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, sha256, synth, tempDir } from './util';

const SECURITY = '100000000001';
const MEMBERS = ['200000000001', '200000000002', '200000000003', '200000000004', '200000000005'];
const JOINER = '200000000006';
const OUTSIDER = '999988887777';
const PARTNER = '123456789012';
const REGIONS = ['us-east-1', 'eu-west-1'];
const ROLE = 'ByokImport';
const ALIAS = 'alias/org-byok';

let cloud: LocalCloud;
let org: LocalOrganization;
let ou: string;
const material = randomBytes(32);
let secretArn: string;
let keyArn: string;
let keyStackDir: string;

beforeAll(async () => {
  cloud = await LocalCloud.start({ region: REGIONS[0], accountId: SECURITY, accounts: [...MEMBERS, JOINER, OUTSIDER], ...RAISED_QUOTAS });
  org = new LocalOrganization(cloud.principals, SECURITY);
  ou = org.createOrganizationalUnit('Workloads');
  for (const account of MEMBERS) await org.addAccount(account, ou);

  // The security account: the secret, its key, both policies; then the material, put by hand.
  const securityDir = synth((stack) => {
    const material = new OrganizationMaterialSecret(stack, 'Material', { organizationId: org.id, importRoleName: ROLE, regions: REGIONS });
    new CfnOutput(stack, 'SecretArn', { value: material.secret.secretArn });
    new CfnOutput(stack, 'KeyArn', { value: material.encryptionKey.keyArn });
  }, 'Security', { account: SECURITY, region: REGIONS[0] });
  const security = await cloud.deploy(securityDir, 'Security');
  secretArn = security.outputs.SecretArn;
  keyArn = security.outputs.KeyArn;
  await cloud.secretsClient(REGIONS[0], SECURITY).send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: material.toString('base64') }));

  // The StackSet's template: no account, no Region.
  keyStackDir = tempDir('byok-stackset-');
  const app = new App({ outdir: keyStackDir });
  const stack = new OrganizationKeyStack(app, 'OrgKeys', { assetBucketPrefix: 'example-byok-assets', importRoleName: ROLE });
  const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Material', { secretCompleteArn: secretArn, encryptionKey: kms.Key.fromKeyArn(stack, 'MaterialKey', keyArn) });
  const key = new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secret), alias: ALIAS, partners: [PartnerAccess.account(PARTNER)] });
  new CfnOutput(stack, 'KeyArn', { value: key.keyArn });
  app.synth();
}, 120_000);
afterAll(async () => { await cloud?.stop(); });

const material256 = () => [sha256(material)];

test('a StackSet to an OU of 5 accounts × 2 Regions: one failure within tolerance leaves the others intact, a retry completes it; a joining account is provisioned automatically', async () => {
  // An alias left over in one account and Region makes that instance fail (CreateAlias: AlreadyExists).
  const [blocked, blockedRegion] = [MEMBERS[2], REGIONS[1]];
  const blocker = cloud.kmsClient(blockedRegion, blocked);
  const { KeyMetadata } = await blocker.send(new CreateKeyCommand({ Description: 'a leftover' }));
  await blocker.send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: KeyMetadata!.KeyId }));

  const stackSet = new LocalStackSet(cloud, org, { name: 'OrgByok', assemblyDir: keyStackDir, templateStack: 'OrgKeys' });
  const first = await stackSet.createStackInstances([ou], REGIONS, { regionConcurrencyType: 'PARALLEL', maxConcurrentCount: 2, failureToleranceCount: 1 });
  expect(first.status).toBe('SUCCEEDED');
  expect(first.peakConcurrency).toEqual({ [REGIONS[0]]: 2, [REGIONS[1]]: 2 });
  const failed = stackSet.list().filter((i) => i.status !== 'CURRENT');
  expect(failed.map(({ account, region, detailedStatus }) => ({ account, region, detailedStatus }))).toEqual([{ account: blocked, region: blockedRegion, detailedStatus: 'FAILED' }]);
  expect(failed[0].statusReason).toMatch(/already exists/i);
  const current = stackSet.list().filter((i) => i.status === 'CURRENT');
  expect(current).toHaveLength(9);
  for (const i of current) expect({ at: `${i.account}/${i.region}`, fp: fingerprints(cloud, i.stack!.outputs.KeyArn) }).toEqual({ at: `${i.account}/${i.region}`, fp: material256() });
  const keysBefore = current.map((i) => i.stack!.outputs.KeyArn);

  // The operator removes the leftover and retries the failed instance only.
  await blocker.send(new DeleteAliasCommand({ AliasName: ALIAS }));
  const retry = await stackSet.retryFailed();
  expect(retry.status).toBe('SUCCEEDED');
  expect(retry.results.map((i) => `${i.account}/${i.region}`)).toEqual([`${blocked}/${blockedRegion}`]);
  expect(stackSet.list().every((i) => i.status === 'CURRENT')).toBe(true);
  expect(fingerprints(cloud, stackSet.instance(blocked, blockedRegion)!.stack!.outputs.KeyArn)).toEqual(material256());
  expect(current.map((i) => stackSet.instance(i.account, i.region)!.stack!.outputs.KeyArn)).toEqual(keysBefore);

  // Every key grants the partner the same statements (its own ARN aside).
  const partnerStatements = async (account: string, region: string) => {
    const arn = stackSet.instance(account, region)!.stack!.outputs.KeyArn;
    const { Policy } = await cloud.kmsClient(region, account).send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: 'default' }));
    return JSON.parse(Policy!).Statement.filter((s: any) => JSON.stringify(s.Principal).includes(PARTNER));
  };
  const reference = await partnerStatements(MEMBERS[0], REGIONS[0]);
  expect(reference.length).toBeGreaterThan(0);
  expect(await partnerStatements(MEMBERS[4], REGIONS[1])).toEqual(reference);

  // A sixth account joins the OU: automatic deployment in both Regions.
  await org.addAccount(JOINER, ou);
  expect(stackSet.autoDeployments.map((o) => o.status)).toEqual(['SUCCEEDED']);
  for (const region of REGIONS) {
    const instance = stackSet.instance(JOINER, region)!;
    expect({ region, status: instance.status, fp: fingerprints(cloud, instance.stack!.outputs.KeyArn) }).toEqual({ region, status: 'CURRENT', fp: material256() });
  }
  expect(stackSet.list()).toHaveLength(12);
}, 120_000);

test('an account outside the organization is refused by the secret\'s resource policy, with the very role name', async () => {
  const failure = await cloud.deploy(keyStackDir, 'OrgKeys', { environment: { account: OUTSIDER, region: REGIONS[0], stackName: 'OrgKeysOutside' } }).catch((e) => e);
  expect(failure.reason).toMatch(new RegExp(`User: arn:aws:sts::${OUTSIDER}:assumed-role/${ROLE}-${REGIONS[0]}/[^ ]+ is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} because no resource-based policy allows`));
});

test('in a member account, only the import role reads the material: another role with the same identity policy is refused', async () => {
  const identityPolicies = [{ Version: '2012-10-17', Statement: [
    { Effect: 'Allow' as const, Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
    { Effect: 'Allow' as const, Action: 'kms:Decrypt', Resource: keyArn },
  ] }];
  const other = cloud.clientsAs(`arn:aws:iam::${MEMBERS[0]}:role/NotTheImportRole`, { identityPolicies });
  await expect(other.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }))).rejects.toThrow(/because no resource-based policy allows/);
  // The import role's name in a Region the security account did not list is refused too.
  const elsewhere = cloud.clientsAs(`arn:aws:iam::${MEMBERS[0]}:role/${ROLE}-ap-south-1`, { identityPolicies });
  await expect(elsewhere.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }))).rejects.toThrow(/because no resource-based policy allows/);
  // The import role decrypts with the secret's key only through Secrets Manager (kms:ViaService).
  const importRoleElsewhere = cloud.clientsAs(`arn:aws:iam::${MEMBERS[1]}:role/${ROLE}-${REGIONS[0]}`, { identityPolicies });
  const { CiphertextBlob } = await cloud.kmsClient(REGIONS[0], SECURITY).send(new EncryptCommand({ KeyId: keyArn, Plaintext: randomBytes(16) }));
  await expect(importRoleElsewhere.kms.send(new DecryptCommand({ KeyId: keyArn, CiphertextBlob }))).rejects.toThrow(/is not authorized to perform: kms:Decrypt/);
  // The import role itself reads it (the control).
  const importRole = cloud.clientsAs(`arn:aws:iam::${MEMBERS[0]}:role/${ROLE}-${REGIONS[0]}`, { identityPolicies });
  const read = await importRole.secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn }));
  expect(read.ARN).toBe(secretArn);
});
