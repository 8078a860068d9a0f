/**
 * A material secret in another account, as AWS enforces it ("Access AWS Secrets Manager secrets
 * from a different account"): under the default aws/secretsmanager key it cannot be read at all;
 * under a customer managed key with the statements of docs/cross-account-secrets.md it imports.
 */
import { randomBytes } from 'crypto';
import { CreateKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import { secretKeyPolicyStatement, secretReadPolicy } from '../../bin/secret-access-stack';
import { ExternalKey, KeyMaterial } from '../../lib';
import { LocalCloud } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, secretByArn, sha256, synth, synthExampleApp } from './util';

const OWNER = '111122223333';
const READER = '444455556666';
const REGION = 'us-east-1';
let cloud: LocalCloud;

// The reader is the default account: an account-agnostic stack is deployed there. Raised quotas:
// the deployments follow one another, and this file is not about KMS's request quotas.
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, accountId: READER, accounts: [OWNER], ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

test('a secret under the default aws/secretsmanager key, shared by resource policy, is refused to another account with AWS\'s error', async () => {
  const arn = await cloud.createSecret(`xacct/${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') }, REGION, OWNER);
  await cloud.secretsClient(REGION, OWNER).send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: JSON.stringify(secretReadPolicy([READER])) }));
  // An account-agnostic stack: synth cannot tell that the secret is in another account (with the
  // account known it refuses, test/lib covers that), the deploy can.
  const outdir = synth((stack: Stack) => { new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretByArn(stack, 'S', arn)) }); }, 'Reader', { region: REGION });
  const failure = await cloud.deploy(outdir, 'Reader').catch((e) => e);
  expect(failure.reason).toMatch(/You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key\./);
}, 120_000);

test('the example app across accounts with a customer managed key: each documented statement is needed (AccessDenied without it), and with both the key imports', async () => {
  const material = randomBytes(32);
  const ownerOnly = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:root` }, Action: 'kms:*', Resource: '*' };
  const kms = cloud.kmsClient(REGION, OWNER);
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [ownerOnly] }), Description: 'encrypts the BYOK material secret' }));
  const keyArn = KeyMetadata!.Arn!;
  const secretArn = await cloud.createSecret(`xacct/${randomBytes(4).toString('hex')}`, { secretString: material.toString('base64'), kmsKeyId: keyArn }, REGION, OWNER);
  const dir = synthExampleApp({ byok: { partnerAccountIds: ['123456789012'], alias: 'alias/xacct', secretArn, secretKeyArn: keyArn, accounts: [OWNER, READER], regions: [REGION] } });
  const readerStack = `PartnerKey-${READER}-${REGION}`;

  // No resource policy on the secret yet.
  const noResourcePolicy = await cloud.deploy(dir, readerStack).catch((e) => e);
  expect(noResourcePolicy.reason).toMatch(new RegExp(`User: arn:aws:sts::${READER}:assumed-role/[^ ]+ is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} because no resource-based policy allows`));

  const access = await cloud.deploy(dir, `ByokSecretAccess-${OWNER}-${REGION}`);
  const statement = JSON.parse(access.outputs.KeyPolicyStatement);
  expect(statement).toEqual(secretKeyPolicyStatement([READER], REGION));

  // The resource policy, but not yet the key policy statement.
  const noKeyStatement = await cloud.deploy(dir, readerStack).catch((e) => e);
  expect(noKeyStatement.reason).toMatch(new RegExp(`Access to KMS is not allowed.*kms:Decrypt on resource: ${keyArn}`));

  await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [ownerOnly, statement] }) }));
  for (const account of [OWNER, READER]) {
    const stack = await cloud.deploy(dir, `PartnerKey-${account}-${REGION}`);
    expect({ account, fingerprints: fingerprints(cloud, stack.outputs.KeyArn) }).toEqual({ account, fingerprints: [sha256(material)] });
  }
}, 240_000);
