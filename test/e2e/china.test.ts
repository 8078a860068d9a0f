import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'crypto';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GetPublicKeyCommand } from '@aws-sdk/client-kms';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, KeyMaterial, KeyMaterialEncoding, WrappingAlgorithm, WrappingKeySpec } from '../../lib';
import { LocalCloud } from '../../testing/harness';
import { fingerprints, RAISED_QUOTAS, secretByArn, synth } from './util';

/**
 * The China partition (aws-cn): SM2 keys, 16-byte (SM4) symmetric material, and no
 * RSA_AES_KEY_WRAP. Every allowed SM2 cell imports the secret's key.
 */
const REGION = 'cn-north-1';
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

describe('the China partition', () => {
  test('SM2 keys import with every RSAES_OAEP algorithm and wrapping key size, and for encryption and key agreement too, and keep the secret\'s public key', async () => {
    const sm2 = () => generateKeyPairSync('ec', { namedCurve: 'SM2' }).privateKey;
    const cells = [
      ...[WrappingAlgorithm.RSAES_OAEP_SHA_1, WrappingAlgorithm.RSAES_OAEP_SHA_256].flatMap((a) => Object.values(WrappingKeySpec).map((s) => ({ a, s, u: kms.KeyUsage.SIGN_VERIFY, key: sm2() }))),
      // The emulator has no SM2 cryptography (node cannot do SM2PKE): these prove the import, the
      // usage and the public key.
      { a: WrappingAlgorithm.RSAES_OAEP_SHA_256, s: WrappingKeySpec.RSA_2048, u: kms.KeyUsage.ENCRYPT_DECRYPT, key: sm2() },
      { a: WrappingAlgorithm.RSAES_OAEP_SHA_256, s: WrappingKeySpec.RSA_2048, u: kms.KeyUsage.KEY_AGREEMENT, key: sm2() },
    ];
    const arns = await Promise.all(cells.map((c, i) => cloud.createSecret(`cn/sm2-${i}-${randomBytes(3).toString('hex')}`, { secretString: c.key.export({ type: 'pkcs8', format: 'pem' }) as string }, REGION)));
    const outdir = synth((s) => cells.forEach((c, i) => new ExternalKey(s, `Sm2${i}`, {
      material: KeyMaterial.fromSecret(secretByArn(s, `S${i}`, arns[i]), { encoding: KeyMaterialEncoding.PEM }),
      keySpec: kms.KeySpec.SM2, keyUsage: c.u, wrappingAlgorithm: c.a, wrappingKeySpec: c.s,
    })), 'China', { account: '111122223333', region: REGION });
    const stack = await cloud.deploy(outdir, 'China');
    for (const [i, c] of cells.entries()) {
      const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport').find((id) => id.startsWith(`Sm2${i}Import`))!].attributes.KeyArn;
      expect(keyArn).toMatch(/^arn:aws-cn:kms:cn-north-1:/);
      const der = c.key.export({ type: 'pkcs8', format: 'der' }) as Buffer;
      expect(fingerprints(cloud, keyArn)).toEqual([createHash('sha256').update(der).digest('hex')]);
      const { PublicKey } = await cloud.kmsClient(REGION).send(new GetPublicKeyCommand({ KeyId: keyArn }));
      expect(Buffer.from(PublicKey!).equals(createPublicKey(c.key).export({ type: 'spki', format: 'der' }) as Buffer)).toBe(true);
      expect((await cloud.kmsClient(REGION).send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyUsage).toBe(c.u);
    }
    expect(new Set(cells.map((c) => c.u))).toEqual(new Set(['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'KEY_AGREEMENT']));
  });

  test('symmetric material is 16 bytes there, and a 32-byte secret is refused with the partition named', async () => {
    const sm4 = randomBytes(16);
    const [ok, bad] = await Promise.all([sm4, randomBytes(32)].map((m, i) => cloud.createSecret(`cn/sym-${i}-${randomBytes(3).toString('hex')}`, { secretString: m.toString('base64') }, REGION)));
    const stack = await cloud.deploy(synth((s) => { new ExternalKey(s, 'Sym', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', ok)) }); }, 'ChinaSym', { account: '111122223333', region: REGION }), 'ChinaSym');
    const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
    expect(fingerprints(cloud, keyArn)).toEqual([createHash('sha256').update(sm4).digest('hex')]);
    const plaintext = randomBytes(20);
    const { CiphertextBlob } = await cloud.kmsClient(REGION).send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
    expect(Buffer.from((await cloud.kmsClient(REGION).send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).equals(plaintext)).toBe(true);
    const failure = await cloud.deploy(synth((s) => { new ExternalKey(s, 'Sym', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', bad)) }); }, 'ChinaBad', { account: '111122223333', region: REGION }), 'ChinaBad').catch((e) => e);
    expect(failure.reason).toMatch(/^\[MaterialFormat\] the material in secret arn:aws-cn:secretsmanager:cn-north-1:.* is 32 bytes; a SYMMETRIC_DEFAULT key needs exactly 16 bytes \(128-bit\) in the China partition/);
  });
});
