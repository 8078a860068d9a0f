import { randomBytes } from 'crypto';
import {
  CreateSecretCommand, DeleteResourcePolicyCommand, DeleteSecretCommand, DescribeSecretCommand, GetResourcePolicyCommand, GetSecretValueCommand,
  ListSecretVersionIdsCommand, PutResourcePolicyCommand, PutSecretValueCommand, RestoreSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { PrincipalRegistry } from '../../testing/iam';
import { SecretsManagerServer } from '../../testing/secrets-manager';

const PARTNER = '444455556666';
const principals = new PrincipalRegistry();
let server: SecretsManagerServer;
let sm: SecretsManagerClient;
let partner: SecretsManagerClient;

beforeAll(async () => {
  server = await SecretsManagerServer.start({
    accounts: { AKIAPARTNER: PARTNER }, principals,
  });
  const client = (accessKeyId: string) => new SecretsManagerClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials: { accessKeyId, secretAccessKey: 'x' } });
  sm = client('AKIAOWNER');
  partner = client('AKIAPARTNER');
});
afterAll(async () => {
  sm.destroy();
  partner.destroy();
  await server.stop();
});

const readPolicy = (principal: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
const name = () => `proto/${randomBytes(4).toString('hex')}`;
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected an error'); }, (e) => ({ name: e.name, message: e.message }));

describe('the local Secrets Manager, through the AWS SDK', () => {
  test('CreateSecret returns an ARN with a six-letter suffix in the Region of the request, and the value reads back (string and binary)', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'proto/text', SecretString: 'hello' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:proto\/text-[A-Za-z]{6}$/);
    const read = await sm.send(new GetSecretValueCommand({ SecretId: 'proto/text' }));
    expect(read).toMatchObject({ ARN: created.ARN, Name: 'proto/text', SecretString: 'hello', VersionId: created.VersionId, VersionStages: ['AWSCURRENT'] });
    expect(read.CreatedDate).toBeInstanceOf(Date);
    const bytes = randomBytes(40);
    const bin = await sm.send(new CreateSecretCommand({ Name: name(), SecretBinary: bytes }));
    const readBin = await sm.send(new GetSecretValueCommand({ SecretId: bin.ARN }));
    expect(Buffer.from(readBin.SecretBinary!).equals(bytes)).toBe(true);
    expect(readBin.SecretString).toBeUndefined();
  });

  test('a secret is found by name, full ARN and partial ARN; another name is ResourceNotFoundException with AWS\'s message', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'proto/find', SecretString: 'v' }));
    for (const id of ['proto/find', ARN!, ARN!.slice(0, -7)]) {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).ARN).toBe(ARN);
    }
    expect(await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'proto/none' })))).toEqual({ name: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    expect(await errorOf(sm.send(new CreateSecretCommand({ Name: 'proto/find', SecretString: 'again' })))).toEqual({ name: 'ResourceExistsException', message: 'The operation failed because the secret proto/find already exists.' });
  });

  test('PutSecretValue moves AWSCURRENT and leaves AWSPREVIOUS on the old version; VersionId and VersionStage select versions', async () => {
    const { ARN, VersionId: v1 } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'one' }));
    const { VersionId: v2, VersionStages } = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'two' }));
    expect(VersionStages).toEqual(['AWSCURRENT']);
    const { VersionId: v3 } = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'three', VersionStages: ['AWSPENDING'] }));
    const value = async (input: { VersionId?: string; VersionStage?: string }) => (await sm.send(new GetSecretValueCommand({ SecretId: ARN, ...input }))).SecretString;
    expect([await value({}), await value({ VersionStage: 'AWSPREVIOUS' }), await value({ VersionStage: 'AWSPENDING' }), await value({ VersionId: v1 })]).toEqual(['two', 'one', 'three', 'one']);
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: ARN }));
    expect(Object.fromEntries(listed.Versions!.map((v) => [v.VersionId, v.VersionStages]))).toEqual({ [v1!]: ['AWSPREVIOUS'], [v2!]: ['AWSCURRENT'], [v3!]: ['AWSPENDING'] });
    expect(await errorOf(value({ VersionId: v1, VersionStage: 'AWSCURRENT' }))).toEqual({ name: 'InvalidRequestException', message: 'You provided a VersionStage that is not associated to the provided VersionId.' });
    expect(await errorOf(value({ VersionStage: 'NOPE' }))).toEqual({ name: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret value for staging label: NOPE" });

    // Promote the pending version as a rotation's finishSecret step does.
    expect(await errorOf(sm.send(new UpdateSecretVersionStageCommand({ SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: v3 }))))
      .toEqual({ name: 'InvalidParameterException', message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${v2}, so you must explicitly reference that version in RemoveFromVersionId.` });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: v3, RemoveFromVersionId: v2 }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: ARN }));
    expect(described.VersionIdsToStages).toEqual({ [v2!]: ['AWSPREVIOUS'], [v3!]: ['AWSPENDING', 'AWSCURRENT'] });
    expect(await value({})).toBe('three');
  });

  test('a retried PutSecretValue with the same ClientRequestToken is idempotent; a different value for it is refused', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'a' }));
    const token = 'b'.repeat(36);
    const first = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'b', ClientRequestToken: token }));
    const again = await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'b', ClientRequestToken: token }));
    expect([first.VersionId, again.VersionId]).toEqual([token, token]);
    expect((await errorOf(sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'c', ClientRequestToken: token })))).name).toBe('ResourceExistsException');
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: ARN }))).Versions).toHaveLength(2);
  });

  test('DeleteSecret schedules deletion: reads fail with InvalidRequestException until RestoreSecret; a forced delete removes it', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'v' }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: ARN, RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(await errorOf(sm.send(new GetSecretValueCommand({ SecretId: ARN })))).toEqual({ name: 'InvalidRequestException', message: "You can't perform this operation on the secret because it was marked for deletion." });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: ARN }))).DeletedDate).toEqual(deleted.DeletionDate);
    await sm.send(new RestoreSecretCommand({ SecretId: ARN }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString).toBe('v');
    expect((await errorOf(sm.send(new DeleteSecretCommand({ SecretId: ARN, RecoveryWindowInDays: 3 })))).name).toBe('InvalidParameterException');
    await sm.send(new DeleteSecretCommand({ SecretId: ARN, ForceDeleteWithoutRecovery: true }));
    expect((await errorOf(sm.send(new DescribeSecretCommand({ SecretId: ARN })))).name).toBe('ResourceNotFoundException');
  });

  test('resource policies: put, get, delete; BlockPublicPolicy refuses a grant to everyone; malformed JSON is MalformedPolicyDocumentException', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'v' }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
    await sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: policy, BlockPublicPolicy: true }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: ARN }))).ResourcePolicy).toBe(policy);
    const publicPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
    expect((await errorOf(sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: publicPolicy, BlockPublicPolicy: true })))).name).toBe('PublicPolicyException');
    expect((await errorOf(sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: '{"Statement": [' })))).name).toBe('MalformedPolicyDocumentException');
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: ARN }));
    expect((await sm.send(new GetResourcePolicyCommand({ SecretId: ARN }))).ResourcePolicy).toBeUndefined();
  });

  test('another account reaches a secret only by ARN, with a resource policy, and not at all when it is encrypted with the default aws/secretsmanager key', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'proto/shared', SecretString: 'v' }));
    expect((await errorOf(partner.send(new GetSecretValueCommand({ SecretId: 'proto/shared' })))).name).toBe('ResourceNotFoundException');
    expect(await errorOf(partner.send(new GetSecretValueCommand({ SecretId: ARN })))).toEqual({
      name: 'AccessDeniedException',
      message: `User: arn:aws:iam::${PARTNER}:root is not authorized to perform: secretsmanager:GetSecretValue on resource: ${ARN} because no resource-based policy allows the secretsmanager:GetSecretValue action`,
    });
    await sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: readPolicy(`arn:aws:iam::${PARTNER}:root`) }));
    expect(await errorOf(partner.send(new GetSecretValueCommand({ SecretId: ARN }))))
      .toEqual({ name: 'InvalidRequestException', message: "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key." });
    const cmk = `arn:aws:kms:eu-west-1:111122223333:key/${'1'.repeat(8)}-1111-1111-1111-${'1'.repeat(12)}`;
    const withKey = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'shared', KmsKeyId: cmk }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: withKey.ARN, ResourcePolicy: readPolicy(`arn:aws:iam::${PARTNER}:root`) }));
    expect((await partner.send(new GetSecretValueCommand({ SecretId: withKey.ARN }))).SecretString).toBe('shared');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: withKey.ARN }))).KmsKeyId).toBe(cmk);
  });

  test('a role acts with its identity policies: secretsmanager:VersionStage conditions, and an explicit Deny in the resource policy wins', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'old' }));
    await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: 'new' }));
    const role = principals.register('arn:aws:iam::111122223333:role/Reader', {
      identityPolicies: [{ Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ARN, Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } } }] }],
    });
    const reader = new SecretsManagerClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials: role });
    try {
      expect((await reader.send(new GetSecretValueCommand({ SecretId: ARN, VersionStage: 'AWSCURRENT' }))).SecretString).toBe('new');
      expect(await errorOf(reader.send(new GetSecretValueCommand({ SecretId: ARN, VersionStage: 'AWSPREVIOUS' })))).toEqual({
        name: 'AccessDeniedException',
        message: `User: arn:aws:sts::111122223333:assumed-role/Reader/local-session is not authorized to perform: secretsmanager:GetSecretValue on resource: ${ARN} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      });
      expect((await errorOf(reader.send(new DescribeSecretCommand({ SecretId: ARN })))).name).toBe('AccessDeniedException');
      await sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: { AWS: role.arn }, Action: 'secretsmanager:*', Resource: '*' }] }) }));
      expect((await errorOf(reader.send(new GetSecretValueCommand({ SecretId: ARN, VersionStage: 'AWSCURRENT' })))).message).toMatch(/with an explicit deny in a resource-based policy$/);
    } finally {
      reader.destroy();
    }
  });

  test('a resource policy can admit another account\'s principals by aws:PrincipalOrgID', async () => {
    const cmk = `arn:aws:kms:eu-west-1:111122223333:key/${'2'.repeat(8)}-2222-2222-2222-${'2'.repeat(12)}`;
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'org', KmsKeyId: cmk }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-local' } } }] }) }));
    const allow = [{ Statement: [{ Effect: 'Allow' as const, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }];
    const member = principals.register(`arn:aws:iam::${PARTNER}:role/InOrg`, { orgId: 'o-local', identityPolicies: allow });
    const stranger = principals.register(`arn:aws:iam::${PARTNER}:role/Outside`, { identityPolicies: allow });
    const as = (credentials: { accessKeyId: string; secretAccessKey: string }) => new SecretsManagerClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials });
    const [a, b] = [as(member), as(stranger)];
    try {
      expect((await a.send(new GetSecretValueCommand({ SecretId: ARN }))).SecretString).toBe('org');
      expect((await errorOf(b.send(new GetSecretValueCommand({ SecretId: ARN })))).message).toMatch(/because no resource-based policy allows/);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('aws:PrincipalArn in the resource policy and secretsmanager:VersionId in the identity policy decide a cross-account read', async () => {
    const cmk = `arn:aws:kms:eu-west-1:111122223333:key/${'3'.repeat(8)}-3333-3333-3333-${'3'.repeat(12)}`;
    const { ARN, VersionId } = await sm.send(new CreateSecretCommand({ Name: name(), SecretString: 'pinned', KmsKeyId: cmk }));
    await sm.send(new PutResourcePolicyCommand({ SecretId: ARN, ResourcePolicy: JSON.stringify({ Statement: [{
      Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: 'secretsmanager:GetSecretValue', Resource: '*',
      Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${PARTNER}:role/Import*` } },
    }] }) }));
    const pinned = [{ Statement: [{ Effect: 'Allow' as const, Action: 'secretsmanager:GetSecretValue', Resource: ARN!, Condition: { StringEquals: { 'secretsmanager:VersionId': VersionId! } } }] }];
    const as = (arn: string) => new SecretsManagerClient({ region: 'eu-west-1', endpoint: server.endpoint, credentials: principals.register(arn, { identityPolicies: pinned }) });
    const [importer, other] = [as(`arn:aws:iam::${PARTNER}:role/ImportHandler`), as(`arn:aws:iam::${PARTNER}:role/Reporting`)];
    try {
      expect((await importer.send(new GetSecretValueCommand({ SecretId: ARN, VersionId }))).SecretString).toBe('pinned');
      expect((await errorOf(importer.send(new GetSecretValueCommand({ SecretId: ARN })))).message).toMatch(/because no identity-based policy allows/);
      expect((await errorOf(other.send(new GetSecretValueCommand({ SecretId: ARN, VersionId })))).message).toMatch(/because no resource-based policy allows/);
    } finally {
      importer.destroy();
      other.destroy();
    }
  });

  test('an unknown operation and a malformed body get AWS\'s error shapes', async () => {
    const post = (target: string, body: string) => fetch(server.endpoint, { method: 'POST', headers: { 'X-Amz-Target': target, 'Content-Type': 'application/x-amz-json-1.1' }, body })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect(await post('secretsmanager.Nope', '{}')).toEqual({ status: 400, body: { __type: 'UnknownOperationException', Message: expect.any(String) } });
    expect(await post('secretsmanager.GetSecretValue', '{')).toEqual({ status: 400, body: { __type: 'SerializationException', Message: expect.any(String) } });
    expect((await post('secretsmanager.GetSecretValue', '{}')).body.__type).toBe('ValidationException');
  });
});
