import { generateKeyPairSync, randomBytes } from 'crypto';
import {
  CancelKeyDeletionCommand,
  CreateGrantCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateMacCommand,
  GetKeyPolicyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ListGrantsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RevokeGrantCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UpdateKeyDescriptionCommand,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, PartnerAccess, WrappingKeySpec } from '../../lib';
import { LocalCloud, LocalStack } from '../../testing/harness';
import { ACCOUNT, RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * The partner's view: a role of the partner account, with the broad IAM policy
 * a partner would write for the owner's keys, can make exactly the calls the KMS console's key-user
 * statements allow for each key type ("Default key policy", key users; "Key policies for HMAC KMS
 * keys", KMS Developer Guide), and every other call is refused with AWS's AccessDenied message.
 * The expected lists are written here from the documentation, not taken from lib/.
 */
const PARTNER = '444455556666';
const PARTNER_ROLE = `arn:aws:iam::${PARTNER}:role/PartnerApp`;

interface KeyCase { id: string; keySpec: kms.KeySpec; keyUsage: kms.KeyUsage; allowed: string[] }
const CASES: KeyCase[] = [
  { id: 'Symmetric', keySpec: kms.KeySpec.SYMMETRIC_DEFAULT, keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT, allowed: ['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'DescribeKey'] },
  { id: 'RsaEncrypt', keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT, allowed: ['Encrypt', 'Decrypt', 'ReEncrypt', 'DescribeKey', 'GetPublicKey'] },
  { id: 'EccSign', keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.SIGN_VERIFY, allowed: ['Sign', 'Verify', 'DescribeKey', 'GetPublicKey'] },
  { id: 'Hmac', keySpec: kms.KeySpec.HMAC_256, keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC, allowed: ['GenerateMac', 'VerifyMac', 'DescribeKey'] },
  { id: 'KeyAgreement', keySpec: kms.KeySpec.ECC_NIST_P256, keyUsage: kms.KeyUsage.KEY_AGREEMENT, allowed: ['DeriveSharedSecret', 'DescribeKey', 'GetPublicKey'] },
];

/** Calls that use a key; each sends a request valid for the key types it belongs to. */
const USE_CALLS: Record<string, (c: KMSClient, keyArn: string) => Promise<unknown>> = {
  Encrypt: (c, k) => c.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x'), EncryptionAlgorithm: algorithm(k) })),
  Decrypt: async (c, k) => c.send(new DecryptCommand({ KeyId: k, CiphertextBlob: ciphertext(k), EncryptionAlgorithm: algorithm(k) })),
  ReEncrypt: async (c, k) => c.send(new ReEncryptCommand({
    SourceKeyId: k, CiphertextBlob: ciphertext(k), DestinationKeyId: k, SourceEncryptionAlgorithm: algorithm(k), DestinationEncryptionAlgorithm: algorithm(k),
  })),
  GenerateDataKey: (c, k) => c.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256' })),
  GenerateDataKeyWithoutPlaintext: (c, k) => c.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: k, KeySpec: 'AES_256' })),
  DescribeKey: (c, k) => c.send(new DescribeKeyCommand({ KeyId: k })),
  GetPublicKey: (c, k) => c.send(new GetPublicKeyCommand({ KeyId: k })),
  Sign: (c, k) => c.send(new SignCommand({ KeyId: k, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })),
  Verify: async (c, k) => c.send(new VerifyCommand({ KeyId: k, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256', Signature: signatures[k] ?? randomBytes(64) })),
  GenerateMac: (c, k) => c.send(new GenerateMacCommand({ KeyId: k, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256' })),
  VerifyMac: async (c, k) => c.send(new VerifyMacCommand({ KeyId: k, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_256', Mac: macs[k] ?? randomBytes(32) })),
  DeriveSharedSecret: (c, k) => c.send(new DeriveSharedSecretCommand({
    KeyId: k, KeyAgreementAlgorithm: 'ECDH', PublicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }),
  })),
  // Grants only for AWS resources: a direct CreateGrant never carries kms:GrantIsForAWSResource.
  CreateGrant: (c, k) => c.send(new CreateGrantCommand({ KeyId: k, GranteePrincipal: PARTNER_ROLE, Operations: ['DescribeKey'] })),
  ListGrants: (c, k) => c.send(new ListGrantsCommand({ KeyId: k })),
  RevokeGrant: (c, k) => c.send(new RevokeGrantCommand({ KeyId: k, GrantId: 'a'.repeat(64) })),
};

/** Administrative calls the partner must never make; refused before anything changes. */
const ADMIN_CALLS: Record<string, (c: KMSClient, keyArn: string) => Promise<unknown>> = {
  GetParametersForImport: (c, k) => c.send(new GetParametersForImportCommand({ KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' })),
  ImportKeyMaterial: (c, k) => c.send(new ImportKeyMaterialCommand({ KeyId: k, ImportToken: randomBytes(64), EncryptedKeyMaterial: randomBytes(256), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' })),
  DeleteImportedKeyMaterial: (c, k) => c.send(new DeleteImportedKeyMaterialCommand({ KeyId: k })),
  PutKeyPolicy: (c, k) => c.send(new PutKeyPolicyCommand({ KeyId: k, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: 'kms:*', Resource: '*' }] }) })),
  GetKeyPolicy: (c, k) => c.send(new GetKeyPolicyCommand({ KeyId: k })),
  ScheduleKeyDeletion: (c, k) => c.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 })),
  CancelKeyDeletion: (c, k) => c.send(new CancelKeyDeletionCommand({ KeyId: k })),
  DisableKey: (c, k) => c.send(new DisableKeyCommand({ KeyId: k })),
  EnableKey: (c, k) => c.send(new EnableKeyCommand({ KeyId: k })),
  TagResource: (c, k) => c.send(new TagResourceCommand({ KeyId: k, Tags: [{ TagKey: 'owner', TagValue: 'partner' }] })),
  UpdateKeyDescription: (c, k) => c.send(new UpdateKeyDescriptionCommand({ KeyId: k, Description: 'mine now' })),
};

const ciphertexts: Record<string, Uint8Array> = {};
const signatures: Record<string, Uint8Array> = {};
const macs: Record<string, Uint8Array> = {};
const rsaKeys = new Set<string>();
const algorithm = (keyArn: string) => (rsaKeys.has(keyArn) ? 'RSAES_OAEP_SHA_256' : undefined);
// A key that encrypts nothing is sent the symmetric key's ciphertext: the call names the key, and is refused before the blob is read.
const ciphertext = (keyArn: string) => ciphertexts[keyArn] ?? ciphertexts[keyArns.Symmetric];

let cloud: LocalCloud;
let stack: LocalStack;
const keyArns: Record<string, string> = {};

beforeAll(async () => {
  // Quotas raised as in the other e2e tests: the partner's administrative calls count against its own account's quotas.
  cloud = await LocalCloud.start({ region: REGION, accountId: ACCOUNT, ...RAISED_QUOTAS });
  const secrets = await Promise.all(CASES.map((c) => {
    const value = c.keySpec === kms.KeySpec.SYMMETRIC_DEFAULT || c.keySpec === kms.KeySpec.HMAC_256
      ? randomBytes(32).toString('base64')
      : (c.keySpec === kms.KeySpec.RSA_2048 ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    return cloud.createSecret(`partner/${c.id}-${randomBytes(4).toString('hex')}`, { secretString: value });
  }));
  const outdir = synth((s) => CASES.forEach((c, i) => {
    const pem = c.keySpec !== kms.KeySpec.SYMMETRIC_DEFAULT && c.keySpec !== kms.KeySpec.HMAC_256;
    new ExternalKey(s, c.id, {
      material: KeyMaterial.fromSecret(secretByArn(s, `S${i}`, secrets[i]), pem ? { encoding: KeyMaterialEncoding.PEM } : {}),
      keySpec: c.keySpec, keyUsage: c.keyUsage, partners: [PartnerAccess.account(PARTNER)],
      // An RSA_2048 wrapping key: the emulator generates one per import, an RSA_4096 one costs
      // about a second of CPU, and this file is about the partners' access, not the wrapping.
      wrappingKeySpec: WrappingKeySpec.RSA_2048,
    });
  }));
  // One more symmetric key, shared with one role of the partner only. A key policy may name a
  // role only once it exists, as in AWS: the partner's role is known to the local cloud first.
  cloud.clientsAs(PARTNER_ROLE);
  const roleSecret = await cloud.createSecret(`partner/role-${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') });
  const roleOutdir = synth((s) => {
    new ExternalKey(s, 'ForRole', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', roleSecret)), partners: [PartnerAccess.principal(new iam.ArnPrincipal(PARTNER_ROLE))] });
  }, 'E2EForRole');
  const roleStack = await cloud.deploy(roleOutdir, 'E2EForRole');
  keyArns.ForRole = roleStack.resources[roleStack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
  stack = await cloud.deploy(outdir, 'E2E');
  const owner = cloud.kmsClient();
  for (const c of CASES) {
    const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport').find((id) => id.startsWith(`${c.id}Import`))!].attributes.KeyArn;
    keyArns[c.id] = keyArn;
    // Inputs for the partner's Decrypt / Verify / VerifyMac, made by the owner.
    if (c.id === 'RsaEncrypt') rsaKeys.add(keyArn);
    if (c.keyUsage === kms.KeyUsage.ENCRYPT_DECRYPT) ciphertexts[keyArn] = (await USE_CALLS.Encrypt(owner, keyArn) as any).CiphertextBlob;
    if (c.keyUsage === kms.KeyUsage.SIGN_VERIFY) signatures[keyArn] = (await USE_CALLS.Sign(owner, keyArn) as any).Signature;
    if (c.keyUsage === kms.KeyUsage.GENERATE_VERIFY_MAC) macs[keyArn] = (await USE_CALLS.GenerateMac(owner, keyArn) as any).Mac;
  }
}, 240_000);

afterAll(async () => { await cloud?.stop(); });

/** The outcome of a call: 'allowed', 'denied' (AccessDenied naming the partner, the action and the key), or the unexpected error. */
async function outcome(call: Promise<unknown>, action: string, keyArn: string): Promise<string> {
  try {
    await call;
    return 'allowed';
  } catch (e) {
    const err = e as Error;
    const expected = `User: arn:aws:sts::${PARTNER}:assumed-role/PartnerApp/local-session is not authorized to perform: ${action} on resource: ${keyArn} because no resource-based policy allows the ${action} action`;
    return err.name === 'AccessDeniedException' && err.message === expected ? 'denied' : `${err.name}: ${err.message}`;
  }
}

/** The IAM action KMS authorizes for a call on one key (ReEncrypt is ReEncryptFrom, then ReEncryptTo). */
const actionOf = (call: string) => `kms:${call === 'ReEncrypt' ? 'ReEncryptFrom' : call}`;

describe.each(CASES)('a partner role, with its own IAM policy on the owner\'s keys, and a $id key', (c) => {
  test('can make exactly the calls of the console\'s key-user statements, and is refused every other use call', async () => {
    const { kms: partner } = cloud.clientsAs(PARTNER_ROLE, {
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: 'kms:*', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }] }],
    });
    const keyArn = keyArns[c.id];
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const [name, call] of Object.entries(USE_CALLS)) {
      got[name] = await outcome(call(partner, keyArn), actionOf(name), keyArn);
      want[name] = c.allowed.includes(name) ? 'allowed' : 'denied';
    }
    expect(got).toEqual(want);
  });

  test('is refused every administrative call, and the key is unchanged', async () => {
    const { kms: partner } = cloud.clientsAs(PARTNER_ROLE, {
      identityPolicies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: 'kms:*', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }] }],
    });
    const keyArn = keyArns[c.id];
    const before = cloud.kms.inspectKey(keyArn);
    const got: Record<string, string> = {};
    for (const [name, call] of Object.entries(ADMIN_CALLS)) got[name] = await outcome(call(partner, keyArn), `kms:${name}`, keyArn);
    expect(got).toEqual(Object.fromEntries(Object.keys(ADMIN_CALLS).map((name) => [name, 'denied'])));
    expect(cloud.kms.inspectKey(keyArn)).toEqual(before);
  });
});

test('without an IAM policy of its own, the partner role is refused even the calls the key policy allows', async () => {
  const bare = cloud.clientsAs(`arn:aws:iam::${PARTNER}:role/NoPolicy`).kms;
  const keyArn = keyArns.Symmetric;
  await expect(USE_CALLS.DescribeKey(bare, keyArn)).rejects.toThrow(
    `User: arn:aws:sts::${PARTNER}:assumed-role/NoPolicy/local-session is not authorized to perform: kms:DescribeKey on resource: ${keyArn} because no identity-based policy allows the kms:DescribeKey action`,
  );
});

test('grants for AWS resources: an AWS service acting for the partner may create a grant on the symmetric key only', () => {
  const principal = cloud.principals.get(PARTNER_ROLE)!;
  const viaEbs = (keyArn: string) => () => cloud.kms.authorizeKeyUseViaService({ principal, keyId: keyArn, action: 'kms:CreateGrant', service: `ec2.${REGION}.amazonaws.com`, region: REGION });
  expect(viaEbs(keyArns.Symmetric)().keyArn).toBe(keyArns.Symmetric);
  for (const id of ['RsaEncrypt', 'EccSign', 'Hmac', 'KeyAgreement']) expect(viaEbs(keyArns[id])).toThrow(/because no resource-based policy allows the kms:CreateGrant action/);
});

test('a key shared with one role of the partner (PartnerAccess.principal): that role may use it, another role of the partner with the same IAM policy may not', async () => {
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' as const, Action: 'kms:*', Resource: `arn:aws:kms:*:${ACCOUNT}:key/*` }] };
  const role = cloud.clientsAs(PARTNER_ROLE, { identityPolicies: [policy] }).kms;
  const other = cloud.clientsAs(`arn:aws:iam::${PARTNER}:role/OtherApp`, { identityPolicies: [policy] }).kms;
  const keyArn = keyArns.ForRole;
  expect(await outcome(USE_CALLS.Encrypt(role, keyArn), 'kms:Encrypt', keyArn)).toBe('allowed');
  expect(await outcome(USE_CALLS.GenerateDataKey(role, keyArn), 'kms:GenerateDataKey', keyArn)).toBe('allowed');
  await expect(USE_CALLS.Encrypt(other, keyArn)).rejects.toThrow(
    `User: arn:aws:sts::${PARTNER}:assumed-role/OtherApp/local-session is not authorized to perform: kms:Encrypt on resource: ${keyArn} because no resource-based policy allows the kms:Encrypt action`,
  );
});
