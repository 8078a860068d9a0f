import { generateKeyPairSync, randomBytes } from 'crypto';
import { DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ExternalKey, ExternalKeyProps, KeyMaterial, KeyMaterialEncoding, KeyMaterialExpiration, SecretKeyMaterialOptions, WrappingKeySpec } from '../../lib';
import { DeploymentFailed, LocalCloud, LocalStack } from '../../testing/harness';
import { describeHits, scanForMaterial, secretValueMaterials } from '../secrecy-scan';
import { fingerprints, RAISED_QUOTAS, REGION, secretByArn, synth } from './util';

/**
 * Run-time bad input (docs/bad-input.md lists every case with the layer that tests it): each
 * yields a specific reason with the code, what was wrong, which resource and what to do;
 * CloudFormation is answered; the key's existing material is untouched; no material in it.
 */
let cloud: LocalCloud;
beforeAll(async () => { cloud = await LocalCloud.start({ region: REGION, ...RAISED_QUOTAS }); });
afterAll(async () => { await cloud?.stop(); });

type Stored = { secretString?: string; secretBinary?: Uint8Array };
const b64 = (b: Buffer) => ({ secretString: b.toString('base64') });
let n = 0;

/** Deploys one key from `stored`; returns the failure reason (and checks the failure was answered). */
async function failureOf(stored: Stored | undefined, props: Partial<ExternalKeyProps> = {}, options: SecretKeyMaterialOptions = {}, afterSynth?: () => Promise<void>): Promise<string> {
  const name = `Bad${++n}`;
  const arn = stored ? await cloud.createSecret(`bad/${randomBytes(5).toString('hex')}`, stored) : `arn:aws:secretsmanager:${REGION}:111122223333:secret:bad/missing-AbCdEf`;
  const outdir = synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn), options), wrappingKeySpec: WrappingKeySpec.RSA_2048, ...props }); }, name);
  await afterSynth?.();
  // Without rollback, so that the key the failed import was meant for can be inspected.
  const stack = new LocalStack(cloud, name, { rollback: false });
  const failure = await stack.apply(outdir).then(() => undefined, (e) => e);
  expect(failure).toBeInstanceOf(DeploymentFailed);
  const keyId = stack.logicalIdsOfType('AWS::KMS::Key')[0];
  expect(cloud.kms.inspectKey(stack.resources[keyId].attributes.Arn)).toMatchObject({ keyState: 'PendingImport', materials: [] });
  const answered = stack.invocations.filter((i) => i.event.RequestType === 'Create');
  expect(answered.map((i) => i.answers.length)).toEqual([1]);
  // Neither the reason nor the handler's logs hold 16 consecutive bytes of the secret's value,
  // its text or what it decodes to, in any form (test/secrecy-scan.ts).
  const { materials, allowed } = secretValueMaterials(stored ?? {});
  const observed = [{ where: 'reason', content: failure.reason }, ...answered.map((i) => ({ where: 'handler logs', content: i.logs }))];
  expect(describeHits(scanForMaterial(materials, observed, { allowed }))).toEqual([]);
  expect(failure.reason).toMatch(/ \(resource KeyImport[0-9A-F]{8}\)$/);
  return failure.reason;
}

const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
const ec = (curve: string) => generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
const pem = (k: any, type = 'pkcs8') => ({ secretString: k.export({ type, format: 'pem' }) as string });

describe('run-time bad input', () => {
  test('R1 a secret that does not exist', async () => {
    expect(await failureOf(undefined)).toMatch(/^\[MaterialSource\] secret arn:aws:secretsmanager:us-east-1:111122223333:secret:bad\/missing-AbCdEf was not found; check that it exists in that region and account/);
  });
  test('R2 a JSON secret without the field asked for', async () => {
    expect(await failureOf({ secretString: JSON.stringify({ other: 'x', note: 'y' }) }, {}, { jsonField: 'keyMaterial' })).toMatch(/^\[MaterialSource\] secret .* has no field 'keyMaterial' \(it has 2 fields, none named so/);
  });
  test('R3 a jsonField on a secret that is not JSON', async () => {
    expect(await failureOf(b64(randomBytes(32)), {}, { jsonField: 'keyMaterial' })).toMatch(/^\[MaterialSource\] secret .* is not a JSON object, but jsonField 'keyMaterial' was given/);
  });
  test('R4 an empty (white space) secret', async () => {
    expect(await failureOf({ secretString: '   \n' })).toMatch(/^\[MaterialSource\] the value of secret .* is empty/);
  });
  test('R5 symmetric material of the wrong length', async () => {
    expect(await failureOf(b64(randomBytes(33)))).toMatch(/^\[MaterialFormat\] the material in secret .* is 33 bytes; a SYMMETRIC_DEFAULT key needs exactly 32 bytes/);
  });
  test('R6 a SecretBinary read as base64 text (an explicit encoding; without one it is raw bytes)', async () => {
    expect(await failureOf({ secretBinary: randomBytes(32) }, {}, { encoding: KeyMaterialEncoding.BASE64 })).toMatch(/^\[MaterialEncoding\] secret .* holds a SecretBinary, but the encoding is BASE64; a SecretBinary is read as raw bytes .*use KeyMaterialEncoding.BINARY/);
  });
  test('R7 a SecretString read as binary', async () => {
    expect(await failureOf(b64(randomBytes(32)), {}, { encoding: KeyMaterialEncoding.BINARY })).toMatch(/^\[MaterialEncoding\] secret .* holds a SecretString, but the encoding is BINARY/);
  });
  test('R8 text that is not base64', async () => {
    expect(await failureOf({ secretString: 'this is not base64 !!' })).toMatch(/^\[MaterialEncoding\] the value of secret .* is not valid base64/);
  });
  test('R9 text that is not hex', async () => {
    expect(await failureOf({ secretString: randomBytes(32).toString('hex').replace(/^../, 'zz') }, {}, { encoding: KeyMaterialEncoding.HEX })).toMatch(/^\[MaterialEncoding\] the value of secret .* is not valid hexadecimal/);
  });
  test('R10 a PEM of the wrong type (a public key)', async () => {
    const pub = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(await failureOf({ secretString: pub }, { keySpec: kms.KeySpec.RSA_2048 })).toMatch(/^\[MaterialFormat\] the value of secret .* is a 'PUBLIC KEY' PEM; expected one of 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'/);
  });
  test('R11 an EC key on the wrong curve', async () => {
    expect(await failureOf(pem(ec('secp384r1')), { keySpec: kms.KeySpec.ECC_NIST_P256 })).toMatch(/^\[MaterialFormat\] the material in secret .* is an EC private key on curve secp384r1; a ECC_NIST_P256 key needs curve prime256v1/);
  });
  test('R12 an RSA key of the wrong size', async () => {
    expect(await failureOf(pem(rsa(2048)), { keySpec: kms.KeySpec.RSA_3072 })).toMatch(/^\[MaterialFormat\] the material in secret .* is a 2048-bit RSA private key; a RSA_3072 key needs 3072 bits/);
  });
  test('R13 an encrypted PEM', async () => {
    const enc = rsa(2048).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret-pass' }) as string;
    expect(await failureOf({ secretString: enc }, { keySpec: kms.KeySpec.RSA_2048 })).toMatch(/^\[MaterialFormat\] the value of secret .* is an encrypted PEM; KMS needs the plain private key/);
  });
  test('R14 trailing garbage after a DER key', async () => {
    const der = ec('prime256v1').export({ type: 'pkcs8', format: 'der' }) as Buffer;
    expect(await failureOf({ secretBinary: Buffer.concat([der, randomBytes(5)]) }, { keySpec: kms.KeySpec.ECC_NIST_P256 }, { encoding: KeyMaterialEncoding.BINARY }))
      .toMatch(new RegExp(`^\\[MaterialFormat\\] the material in secret .* has 5 unexpected bytes after the ${der.length}-byte PKCS#8 private key`));
  });
  test('R15 HMAC material shorter than the spec', async () => {
    expect(await failureOf(b64(randomBytes(20)), { keySpec: kms.KeySpec.HMAC_256 })).toMatch(/^\[MaterialFormat\] the material in secret .* is 20 bytes; a HMAC_256 key needs 32 to 128 bytes/);
  });
  test('R16 an RSA key for an ECC key spec', async () => {
    expect(await failureOf(pem(rsa(2048)), { keySpec: kms.KeySpec.ECC_NIST_P384 })).toMatch(/^\[MaterialFormat\] the material in secret .* is an rsa private key; a ECC_NIST_P384 key needs an EC private key on curve secp384r1/);
  });
  test('R17 an expiry date that passed between synth and deploy', async () => {
    const props = { expiration: KeyMaterialExpiration.at(new Date(Date.now() + 3000)) };
    const waitPastIt = () => new Promise<void>((r) => setTimeout(r, 3100));
    expect(await failureOf(b64(randomBytes(32)), props, {}, waitPastIt)).toMatch(/^\[Expiration\] the expiration date .* has passed; set a new KeyMaterialExpiration and deploy again/);
  });

  describe('on a key that already holds material', () => {
    async function deployed(keySpec?: kms.KeySpec): Promise<{ stack: LocalStack; keyArn: string; update: (stored: Stored, keyStillExists?: boolean) => Promise<string> }> {
      const material = keySpec === kms.KeySpec.RSA_2048 ? pem(rsa(2048)) : b64(randomBytes(32));
      const arn = await cloud.createSecret(`held/${randomBytes(5).toString('hex')}`, material);
      const name = `Held${++n}`;
      const build = (secretArn: string, expiration?: KeyMaterialExpiration) => synth((s) => {
        new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', secretArn)), keySpec, expiration });
      }, name);
      const stack = await cloud.deploy(build(arn), name);
      const keyArn = stack.resources[stack.logicalIdsOfType('Custom::KmsKeyMaterialImport')[0]].attributes.KeyArn;
      const before = fingerprints(cloud, keyArn);
      return {
        stack, keyArn,
        // An update that re-imports: a new secret reference (or, with the same secret, a new expiry).
        update: async (stored: Stored, keyStillExists = true) => {
          const next = Object.keys(stored).length ? await cloud.createSecret(`held/${randomBytes(5).toString('hex')}`, stored) : arn;
          const failure = await stack.apply(build(next, KeyMaterialExpiration.after(Duration.days(30)))).then(() => undefined, (e) => e);
          expect(failure).toBeInstanceOf(DeploymentFailed);
          if (keyStillExists) expect(fingerprints(cloud, keyArn)).toEqual(before);
          return failure.reason;
        },
      };
    }

    test('R18 symmetric material that differs from what the key holds', async () => {
      const { update } = await deployed();
      expect(await update(b64(randomBytes(32)))).toMatch(/^\[MaterialMismatch\] KMS refused the material from secret .* A key holds the material first imported into it; the key keeps that material/);
    });
    test('R19 an RSA private key that differs from the one the key holds', async () => {
      const { update } = await deployed(kms.KeySpec.RSA_2048);
      expect(await update(pem(rsa(2048)))).toMatch(/^\[MaterialMismatch\] KMS refused the material/);
    });
    test('R20 a key pending deletion', async () => {
      const { keyArn, update } = await deployed();
      await cloud.kmsClient().send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
      expect(await update({})).toMatch(/^\[KeyState\] key arn:aws:kms:.* is in a state that does not allow the import: .*pending deletion.*; a key pending deletion must be restored with CancelKeyDeletion first/);
    });
    test('R21 a deleted key (past its pending window)', async () => {
      const { keyArn, update } = await deployed();
      await cloud.kmsClient().send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
      cloud.kms.clock.advance(8 * 86400_000);
      try {
        expect(await update({}, false)).toMatch(/^\[KeyState\] key arn:aws:kms:.* (was not found|is in a state that does not allow the import)/);
      } finally {
        cloud.kms.clock.set(new Date());
      }
    });
    test('R22 a disabled key: KMS accepts the re-import of its own material and the key stays disabled', async () => {
      const { stack, keyArn } = await deployed();
      await cloud.kmsClient().send(new DisableKeyCommand({ KeyId: keyArn }));
      const replayed = await stack.replay({ ...stack.invocations[0], event: { ...stack.invocations[0].event, RequestType: 'Update', PhysicalResourceId: keyArn, OldResourceProperties: { ...stack.invocations[0].event.ResourceProperties, Expiration: { Model: 'KEY_MATERIAL_EXPIRES', ValidForSeconds: '86400' } } } });
      expect(replayed[0].Status).toBe('SUCCESS');
      expect(cloud.kms.inspectKey(keyArn)?.keyState).toBe('Disabled');
    });
  });

  test('R23 a secret scheduled for deletion', async () => {
    const arn = await cloud.createSecret(`bad/${randomBytes(5).toString('hex')}`, b64(randomBytes(32)));
    await cloud.secretsClient().send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
    const name = `Bad${++n}`;
    const failure = await cloud.deploy(synth((s) => { new ExternalKey(s, 'Key', { material: KeyMaterial.fromSecret(secretByArn(s, 'S', arn)) }); }, name), name).then(() => undefined, (e) => e);
    expect(failure.reason).toMatch(/^\[MaterialSource\] secret .* cannot be read: You can't perform this operation on the secret because it was marked for deletion\./);
  });
});
