import * as crypto from 'crypto';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import type { PolicyDocument } from '../../testing/iam';
import { createExternalKey, importMaterial, kmsClient, kmsError } from './helpers';

const OWNER = '111111111111';
const PARTNER = '444455556666';
const APP_ROLE = `arn:aws:iam::${OWNER}:role/App`;
const PARTNER_ROLE = `arn:aws:iam::${PARTNER}:role/PartnerApp`;
const ROOT_STATEMENT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:root` }, Action: 'kms:*', Resource: '*' };
const allowAll = (actions: string[], resource = '*'): PolicyDocument => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] });

let emu: KmsEmulator;
let root: KMSClient;
const clients: KMSClient[] = [];

/** A client acting as `principalArn` with these identity policies. */
function as(principalArn: string, identityPolicies: PolicyDocument[] = []): KMSClient {
  const credentials = emu.principals.credentialsFor(principalArn, { identityPolicies });
  const client = new KMSClient({ endpoint: emu.endpoint, region: 'us-east-1', credentials });
  clients.push(client);
  return client;
}

async function symmetricKey(policy?: object): Promise<string> {
  const md = (await root.send(new CreateKeyCommand({ Policy: policy ? JSON.stringify(policy) : undefined }))).KeyMetadata!;
  return md.Arn!;
}

beforeAll(async () => {
  emu = await KmsEmulator.start({ accountId: OWNER });
  root = kmsClient(emu);
  emu.principals.register(APP_ROLE);
  emu.principals.register(PARTNER_ROLE);
});

afterAll(async () => {
  root.destroy();
  for (const c of clients) c.destroy();
  await emu.stop();
});

describe('same account', () => {
  test('a role needs an identity policy when the key policy only delegates to the account, and the denial names it', async () => {
    const keyArn = await symmetricKey();
    const err = await kmsError(as(APP_ROLE, []).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })));
    expect(err).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:sts::${OWNER}:assumed-role/App/local-session is not authorized to perform: kms:Encrypt on resource: ${keyArn} because no identity-based policy allows the kms:Encrypt action`,
    });
    const out = await as(APP_ROLE, [allowAll(['kms:Encrypt'], keyArn)]).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }));
    expect(out.KeyId).toBe(keyArn);
    expect(emu.calls.at(-1)).toMatchObject({ operation: 'Encrypt', principal: `arn:aws:sts::${OWNER}:assumed-role/App/local-session`, status: 200 });
  });

  test('without the account delegation an identity policy does not count, and an identity Deny wins', async () => {
    const keyArn = await symmetricKey({ Version: '2012-10-17', Statement: [ROOT_STATEMENT] });
    await root.send(new PutKeyPolicyCommand({
      KeyId: keyArn,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ ...ROOT_STATEMENT, Action: ['kms:PutKeyPolicy', 'kms:DescribeKey'] }, { Effect: 'Allow', Principal: { AWS: APP_ROLE }, Action: 'kms:DescribeKey', Resource: '*' }] }),
    }));
    const err = await kmsError(as(APP_ROLE, [allowAll(['kms:*'])]).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })));
    expect(err.message).toMatch(/because no resource-based policy allows the kms:Encrypt action$/);
    await as(APP_ROLE, []).send(new DescribeKeyCommand({ KeyId: keyArn }));
    const denied = await kmsError(as(APP_ROLE, [{ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kms:Describe*', Resource: '*' }] }]).send(new DescribeKeyCommand({ KeyId: keyArn })));
    expect(denied.message).toMatch(/kms:DescribeKey on resource: .* with an explicit deny in an identity-based policy$/);
  });

  test('kms:EncryptionContext and kms:RequestAlias conditions are evaluated', async () => {
    const keyArn = await symmetricKey({
      Version: '2012-10-17',
      Statement: [ROOT_STATEMENT, { Effect: 'Allow', Principal: { AWS: APP_ROLE }, Action: 'kms:Encrypt', Resource: '*', Condition: { StringEquals: { 'kms:EncryptionContext:tenant': 'a' } } }],
    });
    const app = as(APP_ROLE);
    await app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x'), EncryptionContext: { tenant: 'a' } }));
    expect((await kmsError(app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x'), EncryptionContext: { tenant: 'b' } })))).name).toBe('AccessDeniedException');
  });

  test('ReEncrypt is authorized as ReEncryptFrom on the source and ReEncryptTo on the destination', async () => {
    const source = await symmetricKey();
    const destination = await symmetricKey();
    const blob = (await root.send(new EncryptCommand({ KeyId: source, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    const onlyFrom = as(APP_ROLE, [allowAll(['kms:ReEncryptFrom'], source)]);
    const err = await kmsError(onlyFrom.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: destination })));
    expect(err.message).toContain(`kms:ReEncryptTo on resource: ${destination}`);
    const both = as(APP_ROLE, [allowAll(['kms:ReEncryptFrom'], source), allowAll(['kms:ReEncryptTo'], destination)]);
    expect((await both.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: destination }))).KeyId).toBe(destination);
  });
});

describe('key policy validation', () => {
  test('a principal that does not exist is refused with MalformedPolicyDocumentException', async () => {
    const policy = { Version: '2012-10-17', Statement: [ROOT_STATEMENT, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWNER}:role/NoSuchRole` }, Action: 'kms:Decrypt', Resource: '*' }] };
    const err = await kmsError(root.send(new CreateKeyCommand({ Policy: JSON.stringify(policy) })));
    expect(err).toMatchObject({ name: 'MalformedPolicyDocumentException', message: 'Policy contains a statement with one or more invalid principals.' });
  });

  test('a key policy over 32768 characters is a ValidationException', async () => {
    const err = await kmsError(root.send(new CreateKeyCommand({ Policy: JSON.stringify({ Statement: [ROOT_STATEMENT], pad: 'x'.repeat(32768) }) })));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(/Member must have length less than or equal to 32768/);
  });
});

describe('across accounts', () => {
  test('the partner needs both the key policy and its own IAM policy', async () => {
    const keyArn = await symmetricKey({
      Version: '2012-10-17',
      Statement: [ROOT_STATEMENT, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }],
    });
    const bare = await kmsError(as(PARTNER_ROLE, []).send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })));
    expect(bare.message).toMatch(/because no identity-based policy allows the kms:Encrypt action$/);
    const partner = as(PARTNER_ROLE, [allowAll(['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey'], keyArn)]);
    const blob = (await partner.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    expect((await partner.send(new DecryptCommand({ CiphertextBlob: blob }))).KeyId).toBe(keyArn);
    const notInKeyPolicy = await kmsError(partner.send(new DescribeKeyCommand({ KeyId: keyArn })));
    expect(notInKeyPolicy.message).toMatch(/because no resource-based policy allows the kms:DescribeKey action$/);
  });

  test('a grant lets the grantee use the key without any IAM policy; revoking it takes that away', async () => {
    const keyArn = await symmetricKey();
    const grant = await root.send(new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: PARTNER_ROLE, Operations: ['Encrypt'] }));
    const partner = as(PARTNER_ROLE, []);
    await partner.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') }));
    expect((await root.send(new ListGrantsCommand({ KeyId: keyArn }))).Grants!.map((g) => g.GrantId)).toEqual([grant.GrantId]);
    await root.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grant.GrantId }));
    expect((await kmsError(partner.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('x') })))).name).toBe('AccessDeniedException');
  });

  test('kms:GrantIsForAWSResource: a direct CreateGrant is refused, the same grant through an AWS service is allowed', async () => {
    const keyArn = await symmetricKey({
      Version: '2012-10-17',
      Statement: [ROOT_STATEMENT, { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: ['kms:CreateGrant'], Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }],
    });
    const identity = [allowAll(['kms:CreateGrant'], keyArn)];
    const err = await kmsError(as(PARTNER_ROLE, identity).send(new CreateGrantCommand({ KeyId: keyArn, GranteePrincipal: PARTNER_ROLE, Operations: ['Decrypt'] })));
    expect(err.message).toMatch(/kms:CreateGrant .* because no resource-based policy allows/);
    const principal = emu.principals.get(PARTNER_ROLE)!;
    expect(emu.authorizeKeyUseViaService({ principal: { ...principal, identityPolicies: identity }, keyId: keyArn, action: 'kms:CreateGrant', service: 'ec2.us-east-1.amazonaws.com', region: 'us-east-1' }).keyArn).toBe(keyArn);
  });
});

describe('the aws/secretsmanager managed key', () => {
  test('is usable through Secrets Manager by its own account only, never directly or from another account', () => {
    const keyArn = emu.secretsManagerManagedKey(OWNER, 'us-east-1');
    expect(emu.secretsManagerManagedKey(OWNER, 'us-east-1')).toBe(keyArn);
    const viaSecretsManager = (principalArn: string) => ({
      principal: { ...emu.principals.get(principalArn)!, identityPolicies: [] }, keyId: keyArn, action: 'kms:Decrypt', service: 'secretsmanager.us-east-1.amazonaws.com', region: 'us-east-1',
    });
    expect(emu.authorizeKeyUseViaService(viaSecretsManager(APP_ROLE)).keyState).toBe('Enabled');
    expect(() => emu.authorizeKeyUseViaService(viaSecretsManager(PARTNER_ROLE))).toThrow(/is not authorized to perform: kms:Decrypt on resource: .* because no resource-based policy allows/);
    expect(() => emu.authorizeKeyUseViaService({ ...viaSecretsManager(APP_ROLE), service: 's3.us-east-1.amazonaws.com' })).toThrow(/AccessDenied|not authorized/);
  });

  test('reports KeyManager AWS and a policy the account cannot replace', async () => {
    const keyArn = emu.secretsManagerManagedKey(OWNER, 'us-east-1');
    expect((await root.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata).toMatchObject({ Arn: keyArn, KeyManager: 'AWS' });
    expect(JSON.parse((await root.send(new GetKeyPolicyCommand({ KeyId: keyArn }))).Policy!).Id).toBe('auto-secretsmanager-2');
    expect((await kmsError(root.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: JSON.stringify({ Statement: [ROOT_STATEMENT] }) })))).name).toBe('AccessDeniedException');
  });
});

test('DeriveSharedSecret computes ECDH with the imported private key', async () => {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const md = await createExternalKey(root, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' });
  await importMaterial(root, md.KeyId!, privateKey.export({ format: 'der', type: 'pkcs8' }), { algorithm: 'RSA_AES_KEY_WRAP_SHA_256' });
  const peer = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const out = await root.send(new DeriveSharedSecretCommand({ KeyId: md.KeyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: peer.publicKey.export({ format: 'der', type: 'spki' }) }));
  const expected = crypto.diffieHellman({ privateKey: peer.privateKey, publicKey: crypto.createPublicKey(privateKey) });
  expect(Buffer.from(out.SharedSecret!).equals(expected)).toBe(true);
});
