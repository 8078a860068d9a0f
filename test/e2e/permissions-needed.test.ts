import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ExternalKey, KeyMaterial, WrappingKeySpec } from '../../lib';
import { DeploymentFailed, LocalCloud } from '../../testing/harness';
import { ACCOUNT, RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * Every permission the library writes is needed: the app is synthesized once;
 * each variant removes one action from the import statement of the key policy, or one statement of
 * the handler role's IAM policy, and deploys (or, for the removal-time permission, destroys)
 * through the kit, which must fail with AccessDenied naming the principal, the action and the
 * resource. The role's CloudWatch Logs statement is the one exception: the kit has no CloudWatch
 * Logs, so nothing locally can show it is needed (Lambda writes the function's logs with it).
 */
const IMPORT_SID = 'AllowKeyMaterialImportByCdkKmsByok';

let cloud: LocalCloud;
let assemblyDir: string;
let secretArn: string;
const tempDirs: string[] = [];

beforeAll(async () => {
  // Raised quotas and an RSA_2048 wrapping key: the variants deploy one after another, and this
  // file is about permissions, not KMS's request quotas or the wrapping key's size.
  cloud = await LocalCloud.start({ region: REGION, accountId: ACCOUNT, ...RAISED_QUOTAS });
  secretArn = await cloud.createSecret(`byok/needed-${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') });
  assemblyDir = synth((s) => {
    new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn)), deleteMaterialOnRemoval: true, wrappingKeySpec: WrappingKeySpec.RSA_2048 });
  });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
  for (const d of [assemblyDir, ...tempDirs]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the assembly whose template `edit` changed. */
function variant(edit: (resources: Record<string, any>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-needed-'));
  tempDirs.push(dir);
  fs.cpSync(assemblyDir, dir, { recursive: true });
  const file = path.join(dir, 'E2E.template.json');
  const template = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(template.Resources);
  fs.writeFileSync(file, JSON.stringify(template));
  return dir;
}

const ofType = (resources: Record<string, any>, type: string) => Object.values(resources).filter((r: any) => r.Type === type) as any[];
const importStatement = (resources: Record<string, any>) => ofType(resources, 'AWS::KMS::Key')[0].Properties.KeyPolicy.Statement.find((s: any) => s.Sid === IMPORT_SID);
const roleStatements = (resources: Record<string, any>) => ofType(resources, 'AWS::IAM::Policy')[0].Properties.PolicyDocument.Statement as any[];

/**
 * Deploys a variant and destroys it; with `updateOnly`, deploys the unmodified app and then updates
 * it to the variant (the path where the handler only describes the key). Returns the failure, if any.
 */
async function attempt(dir: string, updateOnly = false): Promise<{ failure?: DeploymentFailed; keyArn?: string }> {
  const stack = await cloud.deploy(updateOnly ? assemblyDir : dir, 'E2E').catch((e) => e as DeploymentFailed);
  if (stack instanceof Error) return { failure: stack };
  const keyArn = stack.resources[stack.logicalIdsOfType('AWS::KMS::Key')[0]].attributes.Arn;
  if (updateOnly) return { keyArn, failure: await stack.apply(dir).then(() => undefined, (e) => e as DeploymentFailed) };
  return { keyArn, failure: await stack.destroy().then(() => undefined, (e) => e as DeploymentFailed) };
}

test('the unmodified app deploys and is destroyed cleanly (the baseline the variants break)', async () => {
  const { failure, keyArn } = await attempt(variant(() => {}));
  expect(failure).toBeUndefined();
  expect(cloud.kms.inspectKey(keyArn!)!.materials.map((m) => m.importState)).toEqual(['PENDING_IMPORT']);
});

describe('removing one action of the key policy statement for the import role', () => {
  const actions = ['kms:GetParametersForImport', 'kms:ImportKeyMaterial', 'kms:DescribeKey', 'kms:DeleteImportedKeyMaterial'];

  test('the statement holds exactly these actions', () => {
    const resources = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'E2E.template.json'), 'utf8')).Resources;
    expect(importStatement(resources).Action).toEqual(actions);
  });

  // DescribeKey serves an Update that changes nothing KMS cares about (here: deleteMaterialOnRemoval
  // turned off), DeleteImportedKeyMaterial the removal; the others every import.
  test.each(actions)('without %s the deployment, update or removal fails with AccessDenied naming the role, the action and the key', async (action) => {
    const dir = variant((resources) => {
      const s = importStatement(resources);
      s.Action = s.Action.filter((a: string) => a !== action);
      if (action === 'kms:DescribeKey') delete ofType(resources, 'Custom::KmsKeyMaterialImport')[0].Properties.DeleteMaterialOnRemoval;
    });
    const { failure, keyArn } = await attempt(dir, action === 'kms:DescribeKey');
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure!.reason).toMatch(/^\[AccessDenied\] /);
    // The key policy delegates to the account (EnableIAMUserPermissions), so AWS blames the
    // role's identity-based policy once the key policy statement naming the role lacks the action.
    // (A failed create is rolled back, so only the update and the removal know the key's ARN beforehand.)
    const key = keyArn ?? `arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f-]{36}`;
    expect(failure!.reason).toMatch(new RegExp(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/E2E-CdkKmsByokImportProviderRole[^/ ]+/[^ ]+ is not authorized to perform: ${action} on resource: ${key} because no identity-based policy allows the ${action} action`,
    ));
  });
});

describe('removing one statement of the import role\'s IAM policy', () => {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  // What each statement is needed for, as the resource AWS names when it is missing.
  test.each([
    ['secretsmanager:GetSecretValue', 'the secret', () => escape(secretArn)],
    ['cloudformation:DescribeStackResource', 'the stack', () => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/E2E/`],
  ])('without the %s statement the deployment fails with AccessDenied naming the role, the action and %s', async (action, _what, resource) => {
    const dir = variant((resources) => {
      const doc = ofType(resources, 'AWS::IAM::Policy')[0].Properties.PolicyDocument;
      doc.Statement = roleStatements(resources).filter((s) => s.Action !== action);
    });
    const { failure } = await attempt(dir);
    expect(failure).toBeInstanceOf(DeploymentFailed);
    expect(failure!.reason).toMatch(/^\[AccessDenied\] /);
    expect(failure!.reason).toMatch(new RegExp(`User: arn:aws:sts::${ACCOUNT}:assumed-role/[^/ ]+/[^ ]+ is not authorized to perform: ${action} on resource: ${resource()}`));
  });

  test('the role\'s statements are those two and the CloudWatch Logs statement (which the kit cannot exercise)', () => {
    const resources = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'E2E.template.json'), 'utf8')).Resources;
    expect(roleStatements(resources).map((s) => s.Action).sort()).toEqual(['cloudformation:DescribeStackResource', ['logs:CreateLogStream', 'logs:PutLogEvents'], 'secretsmanager:GetSecretValue'].sort());
  });
});
