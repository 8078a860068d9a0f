/**
 * A material secret in another account, as AWS enforces it ("Access AWS Secrets Manager secrets
 * from a different account"): under the default aws/secretsmanager key it cannot be read at all;
 * under a customer managed key with the statements of docs/cross-account-secrets.md it imports.
 */
import { randomBytes } from 'crypto';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import { secretKeyPolicyStatement, secretReadPolicy } from '../../bin/secret-access-stack';
import { ExternalKey, KeyMaterial } from '../../lib';
import { LocalCloud } from '../../testing/harness';
import { fingerprints, secretByArn, sha256, synth, synthExampleApp } from './util';

const OWNER = '111122223333';
const READER = '444455556666';
const REGION = 'us-east-1';
let cloud: LocalCloud;

// The reader is the default account: an account-agnostic stack is deployed there.
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, accountId: READER, accounts: [OWNER] }); });
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

test('the example app across accounts with a customer managed key: without the secret\'s resource policy AccessDenied names principal, action and secret; with the documented statements the key imports', async () => {
  const material = randomBytes(32);
  const keyPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:root` }, Action: 'kms:*', Resource: '*' },
      secretKeyPolicyStatement([READER], REGION),
    ],
  };
  const { KeyMetadata } = await cloud.kmsClient(REGION, OWNER).send(new CreateKeyCommand({ Policy: JSON.stringify(keyPolicy), Description: 'encrypts the BYOK material secret' }));
  const secretArn = await cloud.createSecret(`xacct/${randomBytes(4).toString('hex')}`, { secretString: material.toString('base64'), kmsKeyId: KeyMetadata!.Arn }, REGION, OWNER);
  const dir = synthExampleApp({ byok: { partnerAccountIds: ['123456789012'], alias: 'alias/xacct', secretArn, secretKeyArn: KeyMetadata!.Arn, accounts: [OWNER, READER], regions: [REGION] } });

  const early = await cloud.deploy(dir, `PartnerKey-${READER}-${REGION}`).catch((e) => e);
  expect(early.reason).toMatch(new RegExp(`is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretArn} because no resource-based policy allows`));
  expect(early.reason).toMatch(new RegExp(`User: arn:aws:(iam|sts)::${READER}:`));

  const access = await cloud.deploy(dir, `ByokSecretAccess-${OWNER}-${REGION}`);
  expect(JSON.parse(access.outputs.KeyPolicyStatement)).toEqual(secretKeyPolicyStatement([READER], REGION));
  for (const account of [OWNER, READER]) {
    const stack = await cloud.deploy(dir, `PartnerKey-${account}-${REGION}`);
    expect({ account, fingerprints: fingerprints(cloud, stack.outputs.KeyArn) }).toEqual({ account, fingerprints: [sha256(material)] });
  }
}, 180_000);
