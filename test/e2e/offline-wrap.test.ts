import { execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ExternalKey, KeyMaterial, WrappingAlgorithm } from '../../lib';
import { DeploymentFailed, LocalCloud } from '../../testing/harness';
import { describeWithTools } from '../tools';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * The offline (two-phase) flow, end to end: phase 1 publishes the wrapping public key and token,
 * the "HSM" step is the openssl CLI exactly as docs/hsm.md gives it, phase 2 imports the blob.
 */
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-'));

async function twoPhase(name: string, algorithm: WrappingAlgorithm) {
  const parametersArn = await cloud.createSecret(`offline/${name}-params`, { secretString: '{}' });
  const wrappedArn = await cloud.createSecret(`offline/${name}-wrapped`, { secretString: 'none yet' });
  const build = (phase2: boolean, versionId?: string, generation?: number) => synth((s) => {
    new ExternalKey(s, 'Key', {
      wrappingAlgorithm: algorithm,
      material: KeyMaterial.fromOfflineWrap({
        parametersSecret: secretByArn(s, 'Params', parametersArn),
        wrappedMaterial: phase2 ? secretByArn(s, 'Wrapped', wrappedArn) : undefined,
        wrappedMaterialVersionId: versionId,
        parametersGeneration: generation,
      }),
    });
  }, name);
  const stack = await cloud.deploy(build(false), name);
  const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
  return { stack, keyArn, parametersArn, wrappedArn, build };
}

/** The offline step, with the openssl CLI as the docs give it; returns the material's sha256. */
async function wrapOffline(parametersArn: string, wrappedArn: string, algorithm: string): Promise<{ sha256: string; versionId: string }> {
  const published = JSON.parse((await cloud.secretsClient().send(new GetSecretValueCommand({ SecretId: parametersArn }))).SecretString!);
  const pub = path.join(dir, `pub-${randomBytes(4).toString('hex')}.der`);
  fs.writeFileSync(pub, Buffer.from(published.publicKey, 'base64'));
  const material = path.join(dir, `m-${randomBytes(4).toString('hex')}.bin`);
  execFileSync('openssl', ['rand', '-out', material, '32']);
  const md = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const oaep = ['-inkey', pub, '-keyform', 'DER', '-pubin', '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`];
  const out = `${material}.wrapped`;
  if (algorithm.startsWith('RSAES')) {
    execFileSync('openssl', ['pkeyutl', '-encrypt', '-in', material, '-out', out, ...oaep]);
  } else {
    const aes = `${material}.aes`;
    execFileSync('openssl', ['rand', '-out', aes, '32']);
    execFileSync('openssl', ['enc', '-id-aes256-wrap-pad', '-K', fs.readFileSync(aes).toString('hex'), '-iv', 'A65959A6', '-in', material, '-out', `${out}.kwp`]);
    execFileSync('openssl', ['pkeyutl', '-encrypt', '-in', aes, '-out', `${out}.rsa`, ...oaep]);
    fs.writeFileSync(out, Buffer.concat([fs.readFileSync(`${out}.rsa`), fs.readFileSync(`${out}.kwp`)]));
  }
  const { VersionId } = await cloud.secretsClient().send(new PutSecretValueCommand({ SecretId: wrappedArn, SecretString: fs.readFileSync(out).toString('base64') }));
  return { sha256: createHash('sha256').update(fs.readFileSync(material)).digest('hex'), versionId: VersionId! };
}

describeWithTools(['openssl'], 'the offline two-phase flow', () => {
  test.each([WrappingAlgorithm.RSAES_OAEP_SHA_256, WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1])('phase 1 publishes, openssl wraps, phase 2 imports (%s)', async (algorithm) => {
    const { stack, keyArn, parametersArn, wrappedArn, build } = await twoPhase(`Offline${algorithm.replace(/_/g, '')}`, algorithm);
    expect((await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('PendingImport');
    const published = JSON.parse((await cloud.secretsClient().send(new GetSecretValueCommand({ SecretId: parametersArn }))).SecretString!);
    expect(published).toMatchObject({ keyArn, wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_4096', publicKeyPem: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----/) });
    expect(new Date(published.parametersValidTo).getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const { sha256, versionId } = await wrapOffline(parametersArn, wrappedArn, algorithm);
    await stack.apply(build(true, versionId));
    expect((await cloud.kmsClient().send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect(fingerprints(cloud, keyArn)).toEqual([sha256]);
  });

  test('phase 2 after the token expired fails clearly, and phase 1 again with a new generation recovers', async () => {
    const { stack, keyArn, parametersArn, wrappedArn, build } = await twoPhase('OfflineExpired', WrappingAlgorithm.RSAES_OAEP_SHA_256);
    const { versionId } = await wrapOffline(parametersArn, wrappedArn, 'RSAES_OAEP_SHA_256');
    cloud.kms.clock.advance(25 * 3600_000);
    try {
      const failure = await stack.apply(build(true, versionId)).catch((e) => e);
      expect(failure).toBeInstanceOf(DeploymentFailed);
      expect(failure.reason).toMatch(/^\[ImportToken\] the import token published in secret .* expired at .* \(KMS tokens are valid for 24 hours\); deploy phase 1 again \(without wrappedMaterial, with a new parametersGeneration\)/);
      expect(cloud.kms.inspectKey(keyArn)?.keyState).toBe('PendingImport');
      await stack.apply(build(false, undefined, 1));
      const second = await wrapOffline(parametersArn, wrappedArn, 'RSAES_OAEP_SHA_256');
      await stack.apply(build(true, second.versionId, 1));
      expect(fingerprints(cloud, keyArn)).toEqual([second.sha256]);
    } finally {
      cloud.kms.clock.set(new Date());
    }
  });

  test('a blob wrapped for another key or algorithm is refused with what to do, and the key stays without material', async () => {
    const { stack, keyArn, parametersArn, wrappedArn, build } = await twoPhase('OfflineWrong', WrappingAlgorithm.RSAES_OAEP_SHA_256);
    const other = await twoPhase('OfflineOtherKey', WrappingAlgorithm.RSAES_OAEP_SHA_256);
    const refused = /^\[MaterialFormat\] KMS could not unwrap the material in secret .* with the published wrapping key: wrap it with RSAES_OAEP_SHA_256 under the public key in secret/;
    // Another algorithm: SHA-1 OAEP under this key's own wrapping key.
    const wrongAlgorithm = await wrapOffline(parametersArn, wrappedArn, 'RSAES_OAEP_SHA_1');
    expect((await stack.apply(build(true, wrongAlgorithm.versionId)).catch((e) => e)).reason).toMatch(refused);
    // Another key: the right algorithm under the wrapping key published for another KMS key.
    const wrongKey = await wrapOffline(other.parametersArn, wrappedArn, 'RSAES_OAEP_SHA_256');
    expect((await stack.apply(build(true, wrongKey.versionId)).catch((e) => e)).reason).toMatch(refused);
    expect(cloud.kms.inspectKey(keyArn)).toMatchObject({ keyState: 'PendingImport', materials: [] });
  });
});
