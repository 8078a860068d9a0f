import { constants, createHmac, createPublicKey, generateKeyPairSync, KeyObject, privateDecrypt, randomBytes, verify } from 'crypto';
import { DescribeKeyCommand, EncryptCommand, GenerateMacCommand, GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { checkImportCombination, IMPORTABLE_KEY_SPECS } from '../../lib/private/import-rules';
import { LocalCloud } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, sha256, synth } from './util';

/**
 * The interoperability matrix: every allowed (key spec, wrapping algorithm, wrapping
 * key spec) cell is imported through the bundled handler into the emulator, and the imported key
 * is proven to be the secret's key with a cryptographic operation checked by node's crypto. (The
 * same wraps are unwrapped by the openssl CLI in test/interop.) Forbidden cells fail at synth.
 */
const SPECS = Object.keys(IMPORTABLE_KEY_SPECS).filter((s) => s !== 'SYMMETRIC_DEFAULT' && s !== 'SM2');
const ALGORITHMS = Object.values(WrappingAlgorithm) as string[];
const SIZES = Object.values(WrappingKeySpec) as string[];
const CURVES: Record<string, string> = { ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1', ECC_SECG_P256K1: 'secp256k1' };
const SIGNING: Record<string, [string, string]> = { ECC_NIST_P256: ['ECDSA_SHA_256', 'sha256'], ECC_NIST_P384: ['ECDSA_SHA_384', 'sha384'], ECC_NIST_P521: ['ECDSA_SHA_512', 'sha512'], ECC_SECG_P256K1: ['ECDSA_SHA_256', 'sha256'] };

interface Cell { keySpec: string; keyUsage: string; algorithm: string; size: string }
const usageFor = (keySpec: string) => (keySpec === 'RSA_2048' ? 'ENCRYPT_DECRYPT' : IMPORTABLE_KEY_SPECS[keySpec].kind === 'RSA' ? 'SIGN_VERIFY' : IMPORTABLE_KEY_SPECS[keySpec].usages[0]);
const all: Cell[] = SPECS.flatMap((keySpec) => ALGORITHMS.flatMap((algorithm) => SIZES.map((size) => ({ keySpec, keyUsage: usageFor(keySpec), algorithm, size }))));
const allowed = all.filter((c) => !checkImportCombination({ ...c, wrappingAlgorithm: c.algorithm, wrappingKeySpec: c.size, partition: 'aws' }));
const forbidden = all.filter((c) => checkImportCombination({ ...c, wrappingAlgorithm: c.algorithm, wrappingKeySpec: c.size, partition: 'aws' }));
// Every other key usage of each spec (RSA signing at 2048 and encryption at 3072 and 4096, ECC
// key agreement), imported end to end too, with the spec's first allowed wrapping cell.
const otherUsages: Cell[] = SPECS.flatMap((keySpec) => IMPORTABLE_KEY_SPECS[keySpec].usages.filter((u) => u !== usageFor(keySpec))
  .map((keyUsage) => ({ ...allowed.find((c) => c.keySpec === keySpec)!, keyUsage })));
const results: Record<string, 'passed' | 'failed'> = {};

/** Fresh material for a spec, as the secret stores it (a few encodings, rotating over cells). */
function material(keySpec: string, i: number): { stored: { secretString?: string; secretBinary?: Uint8Array }; encoding: KeyMaterialEncoding; key?: KeyObject; bytes?: Buffer } {
  const kind = IMPORTABLE_KEY_SPECS[keySpec].kind;
  if (kind === 'HMAC') {
    const bytes = randomBytes(Number(keySpec.slice(5)) / 8 + (i % 3) * 8);
    return { stored: { secretString: bytes.toString('base64') }, encoding: KeyMaterialEncoding.BASE64, bytes };
  }
  const key = kind === 'RSA'
    ? generateKeyPairSync('rsa', { modulusLength: Number(keySpec.slice(4)) }).privateKey
    : generateKeyPairSync('ec', { namedCurve: CURVES[keySpec] }).privateKey;
  switch (i % 3) {
    case 0: return { stored: { secretString: key.export({ type: 'pkcs8', format: 'pem' }) as string }, encoding: KeyMaterialEncoding.PEM, key };
    case 1: return { stored: { secretString: key.export({ type: kind === 'RSA' ? 'pkcs1' : 'sec1', format: 'pem' }) as string }, encoding: KeyMaterialEncoding.PEM, key };
    default: return { stored: { secretBinary: key.export({ type: 'pkcs8', format: 'der' }) as Buffer }, encoding: KeyMaterialEncoding.BINARY, key };
  }
}

async function prove(cloud: LocalCloud, keyArn: string, cell: Cell, m: ReturnType<typeof material>): Promise<void> {
  const client = cloud.kmsClient();
  const message = randomBytes(48);
  if (m.bytes) {
    const algorithm = `HMAC_SHA_${cell.keySpec.slice(5)}`;
    const { Mac } = await client.send(new GenerateMacCommand({ KeyId: keyArn, Message: message, MacAlgorithm: algorithm as any }));
    expect(Buffer.from(Mac!).equals(createHmac(`sha${cell.keySpec.slice(5)}`, m.bytes).update(message).digest())).toBe(true);
    return;
  }
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyArn }));
  const expected = createPublicKey(m.key!).export({ type: 'spki', format: 'der' });
  expect(Buffer.from(PublicKey!).equals(expected)).toBe(true);
  expect((await client.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyUsage).toBe(cell.keyUsage);
  if (cell.keyUsage === 'KEY_AGREEMENT') {
    // The emulator does not implement DeriveSharedSecret: the material it holds is the secret's
    // private key itself (its fingerprint), and the public key above is that key's.
    expect(fingerprints(cloud, keyArn)).toEqual([sha256(m.key!.export({ type: 'pkcs8', format: 'der' }))]);
    return;
  }
  if (cell.keyUsage === 'ENCRYPT_DECRYPT') {
    const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: keyArn, Plaintext: message, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const plain = privateDecrypt({ key: m.key!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(CiphertextBlob!));
    expect(plain.equals(message)).toBe(true);
    return;
  }
  const [signingAlgorithm, hash] = IMPORTABLE_KEY_SPECS[cell.keySpec].kind === 'RSA' ? ['RSASSA_PKCS1_V1_5_SHA_256', 'sha256'] : SIGNING[cell.keySpec];
  const { Signature } = await client.send(new SignCommand({ KeyId: keyArn, Message: message, MessageType: 'RAW', SigningAlgorithm: signingAlgorithm as any }));
  expect(verify(hash, message, createPublicKey(m.key!), Buffer.from(Signature!))).toBe(true);
}

describe('every importable key type and wrapping cell', () => {
  let cloud: LocalCloud;
  beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
  afterAll(async () => {
    await cloud?.stop();
    const passed = Object.values(results).filter((r) => r === 'passed').length;
    const failed = Object.values(results).filter((r) => r === 'failed').length;
    process.stdout.write(`\nimport matrix: ${all.length} cells of (key spec x wrapping algorithm x wrapping key spec) beyond SYMMETRIC_DEFAULT: ${passed} passed, ${forbidden.length} forbidden at synth, ${failed} failed\n`);
  });

  test.each(SPECS)('%s: every allowed wrapping cell, and every other key usage, imports the secret\'s key, proven by a crypto operation', async (keySpec) => {
    const cells = [...allowed, ...otherUsages].filter((c) => c.keySpec === keySpec);
    expect(new Set(cells.map((c) => c.keyUsage))).toEqual(new Set(IMPORTABLE_KEY_SPECS[keySpec].usages));
    const materials = cells.map((c, i) => material(c.keySpec, i));
    const arns = await Promise.all(materials.map((m, i) => cloud.createSecret(`m/${keySpec}/${i}-${randomBytes(4).toString('hex')}`, m.stored)));
    const outdir = synth((stack) => cells.forEach((c, i) => new ExternalKey(stack, `K${i}`, {
      material: KeyMaterial.fromSecret(secretByArn(stack, `S${i}`, arns[i]), { encoding: materials[i].encoding }),
      keySpec: c.keySpec as kms.KeySpec, keyUsage: c.keyUsage as kms.KeyUsage,
      wrappingAlgorithm: c.algorithm as WrappingAlgorithm, wrappingKeySpec: c.size as WrappingKeySpec,
    })), `Types${keySpec.replace(/_/g, '')}`);
    const stack = await cloud.deploy(outdir, `Types${keySpec.replace(/_/g, '')}`);
    for (const [i, c] of cells.entries()) {
      const name = `${c.keySpec}/${c.keyUsage}/${c.algorithm}/${c.size}`;
      const logicalId = stack.logicalIdsOfType('Custom::KmsKeyMaterialImport').find((id) => id.startsWith(`K${i}Import`))!;
      try {
        await prove(cloud, stack.resources[logicalId].attributes.KeyArn, c, materials[i]);
        results[name] = 'passed';
      } catch (e) {
        results[name] = 'failed';
        throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
      }
    }
    expect(cells.length).toBeGreaterThan(0);
  });

  test('every forbidden cell fails at synth with the rule it breaks', () => {
    expect(forbidden.length).toBeGreaterThan(0);
    for (const c of forbidden) {
      expect(() => synth((stack) => new ExternalKey(stack, 'K', {
        material: KeyMaterial.fromSecret(secretByArn(stack, 'S', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf')),
        keySpec: c.keySpec as kms.KeySpec, keyUsage: c.keyUsage as kms.KeyUsage,
        wrappingAlgorithm: c.algorithm as WrappingAlgorithm, wrappingKeySpec: c.size as WrappingKeySpec,
      }))).toThrow(/^\[WrappingCombination\] key spec '\w+' (needs an RSA_AES_KEY_WRAP_\* wrapping algorithm|cannot be wrapped with)/);
    }
  });
});

