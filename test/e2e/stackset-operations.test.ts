/**
 * The local StackSet's operation preferences as the StackSets API defines them
 * ("StackSetOperationPreferences"), on a template of plain resources (a key and an alias): a
 * failure beyond the tolerance stops the Region and cancels the rest, later Regions included;
 * percentages round down; automatic deployment follows accounts in and out of the OU.
 */
import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { LocalCloud, LocalOrganization, LocalStackSet } from '../../testing/harness';
import { RAISED_QUOTAS, tempDir } from './util';

const ACCOUNTS = ['300000000001', '300000000002', '300000000003', '300000000004'];
const OTHER = '300000000005';
const REGIONS = ['us-east-1', 'eu-west-1'];
let cloud: LocalCloud;
let n = 0;

beforeAll(async () => {
  cloud = await LocalCloud.start({ accountId: '100000000001', accounts: [...ACCOUNTS, OTHER], ...RAISED_QUOTAS });
});
afterAll(async () => { await cloud?.stop(); });

/** A fresh organization (its own OU) and StackSet; `blocked` account/Region pairs fail (their alias exists). */
async function setUp(blocked: Array<[string, string]>) {
  const alias = `alias/ss-ops-${++n}`;
  const dir = tempDir('byok-ss-ops-');
  const app = new App({ outdir: dir });
  const stack = new Stack(app, 'Plain');
  new kms.Key(stack, 'Key', { removalPolicy: RemovalPolicy.DESTROY }).addAlias(alias);
  app.synth();
  const org = new LocalOrganization(cloud.principals, '100000000001');
  const ou = org.createOrganizationalUnit(`ou${n}`);
  for (const a of ACCOUNTS) await org.addAccount(a, ou);
  for (const [account, region] of blocked) {
    const client = cloud.kmsClient(region, account);
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata!.KeyId }));
  }
  return { org, ou, stackSet: new LocalStackSet(cloud, org, { name: `Ops${n}`, assemblyDir: dir, templateStack: 'Plain' }) };
}
const statuses = (s: LocalStackSet) => Object.fromEntries(s.list().map((i) => [`${i.account}/${i.region}`, i.detailedStatus]));

test('SEQUENTIAL, no tolerance: the first failure stops the Region, the accounts not started and every later Region are CANCELLED', async () => {
  const { ou, stackSet } = await setUp([[ACCOUNTS[1], REGIONS[0]]]);
  const op = await stackSet.createStackInstances([ou], REGIONS, { maxConcurrentCount: 1, failureToleranceCount: 0 });
  expect(op.status).toBe('FAILED');
  expect(statuses(stackSet)).toEqual({
    [`${ACCOUNTS[0]}/${REGIONS[0]}`]: 'SUCCEEDED', [`${ACCOUNTS[1]}/${REGIONS[0]}`]: 'FAILED',
    [`${ACCOUNTS[2]}/${REGIONS[0]}`]: 'CANCELLED', [`${ACCOUNTS[3]}/${REGIONS[0]}`]: 'CANCELLED',
    ...Object.fromEntries(ACCOUNTS.map((a) => [`${a}/${REGIONS[1]}`, 'CANCELLED'])),
  });
  expect(stackSet.list().filter((i) => i.status === 'CURRENT')).toHaveLength(1);
});

test('percentages round down: 50 % of 4 accounts tolerates 2 failures and runs 2 at a time', async () => {
  const { ou, stackSet } = await setUp([[ACCOUNTS[2], REGIONS[1]], [ACCOUNTS[3], REGIONS[1]]]);
  const op = await stackSet.createStackInstances([ou], REGIONS, { maxConcurrentPercentage: 50, failureTolerancePercentage: 50 });
  expect(op.status).toBe('SUCCEEDED');
  expect(op.peakConcurrency).toEqual({ [REGIONS[0]]: 2, [REGIONS[1]]: 2 });
  expect(stackSet.list().filter((i) => i.detailedStatus === 'FAILED').map((i) => `${i.account}/${i.region}`).sort())
    .toEqual([`${ACCOUNTS[2]}/${REGIONS[1]}`, `${ACCOUNTS[3]}/${REGIONS[1]}`]);
  // 30 % of 4 rounds down to 1: the second failure exceeds it.
  const { ou: ou2, stackSet: again } = await setUp([[ACCOUNTS[0], REGIONS[1]], [ACCOUNTS[1], REGIONS[1]]]);
  const strict = await again.createStackInstances([ou2], [REGIONS[1]], { maxConcurrentPercentage: 100, failureTolerancePercentage: 30 });
  expect(strict.status).toBe('FAILED');
  // STRICT_FAILURE_TOLERANCE: at most FailureToleranceCount + 1 = 2 at a time, though 100 % allows 4.
  expect(strict.peakConcurrency[REGIONS[1]]).toBeLessThanOrEqual(2);
});

test('a count and a percentage of the same preference are refused, as the API does', async () => {
  const { ou, stackSet } = await setUp([]);
  await expect(stackSet.createStackInstances([ou], REGIONS, { maxConcurrentCount: 1, maxConcurrentPercentage: 10 })).rejects.toThrow(/either MaxConcurrentCount or MaxConcurrentPercentage/);
});

test('automatic deployment: an account moved into the OU gets instances in every Region, one moved out loses them; an account elsewhere gets none', async () => {
  const { org, ou, stackSet } = await setUp([]);
  await stackSet.createStackInstances([ou], REGIONS, { maxConcurrentCount: 4, failureToleranceCount: 3 });
  const elsewhere = org.createOrganizationalUnit('Elsewhere');
  await org.addAccount(OTHER, elsewhere);
  expect(stackSet.list().filter((i) => i.account === OTHER)).toEqual([]);
  await org.moveAccount(OTHER, ou);
  expect(REGIONS.map((r) => stackSet.instance(OTHER, r)?.status)).toEqual(['CURRENT', 'CURRENT']);
  const keyId = stackSet.instance(OTHER, REGIONS[0])!.stack!.resources[Object.keys(stackSet.instance(OTHER, REGIONS[0])!.stack!.resources).find((id) => id.startsWith('Key'))!].physicalId;
  await org.moveAccount(OTHER, elsewhere);
  expect(REGIONS.map((r) => stackSet.instance(OTHER, r))).toEqual([undefined, undefined]);
  expect(cloud.kms.inspectKey(keyId, REGIONS[0], OTHER)?.keyState).toBe('PendingDeletion');
  await org.removeAccount(OTHER);
});
