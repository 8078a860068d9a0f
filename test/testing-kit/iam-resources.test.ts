import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DeploymentFailed, LocalCloud } from '../../testing/harness';
import { ACCOUNT, REGION, synth } from '../e2e/util';

/** The harness deploys IAM as AWS validates it: roles are principals, key policies need existing principals, IAM policy sizes are limited. */
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, accountId: ACCOUNT }); });
afterAll(async () => { await cloud?.stop(); });

const lambdaRole = (s: Stack, id: string) => new iam.Role(s, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });

test('a key policy may name a role created in the same deployment, and that role acts with the policies attached to it', async () => {
  const dir = synth((s) => {
    const role = lambdaRole(s, 'User');
    const key = new kms.Key(s, 'Key');
    key.grant(role, 'kms:DescribeKey');
    key.addToResourcePolicy(new iam.PolicyStatement({ principals: [role], actions: ['kms:Encrypt'], resources: ['*'] }));
  });
  const stack = await cloud.deploy(dir, 'E2E');
  const roleArn = stack.resources[stack.logicalIdsOfType('AWS::IAM::Role')[0]].attributes.Arn;
  const keyArn = stack.resources[stack.logicalIdsOfType('AWS::KMS::Key')[0]].attributes.Arn;
  expect(roleArn).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT}:role/E2E-User`));
  const asRole = new KMSClient({ region: REGION, endpoint: cloud.kms.endpoint, credentials: cloud.principals.credentialsFor(roleArn) });
  try {
    expect((await asRole.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata!.Arn).toBe(keyArn);
  } finally {
    asRole.destroy();
  }
});

test('a key policy naming a role that does not exist fails the key with KMS\'s MalformedPolicyDocumentException', async () => {
  const dir = synth((s) => {
    const key = new kms.Key(s, 'Key');
    key.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.ArnPrincipal(`arn:aws:iam::${ACCOUNT}:role/NotDeployed`)], actions: ['kms:Decrypt'], resources: ['*'] }));
  });
  await expect(cloud.deploy(dir, 'E2E')).rejects.toThrow('Policy contains a statement with one or more invalid principals.');
});

test('inline policies of more than 10,240 characters for one role fail with IAM\'s LimitExceeded message', async () => {
  // The CDK itself moves statements into overflow managed policies before this limit; an L1 role does not.
  const resources = Array.from({ length: 160 }, (_, i) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`);
  const dir = synth((s) => {
    new iam.CfnRole(s, 'Big', {
      roleName: 'Big',
      assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      policies: [{ policyName: 'keys', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: resources }] } }],
    });
  });
  const failure = await cloud.deploy(dir, 'E2E').catch((e) => e as DeploymentFailed);
  expect(failure).toBeInstanceOf(DeploymentFailed);
  expect((failure as DeploymentFailed).reason).toBe('LimitExceeded: Maximum policy size of 10240 bytes exceeded for role Big');
});
