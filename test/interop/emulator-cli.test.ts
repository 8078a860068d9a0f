/**
 * The manual recipe of the AWS guide, run for real: the `openssl` CLI wraps the material and the
 * AWS CLI drives the import. Neither shares code with the emulator.
 */
import * as crypto from 'crypto';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { DecryptCommand, EncryptCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { KmsEmulator } from '../../testing/emulator';
import { DAY, awsKms, createExternalKey, importCommand, importParameters, kmsClient } from '../emulator/helpers';
import { describeWithTools } from '../tools';

const run = promisify(execFile);

let emu: KmsEmulator;
let kms: KMSClient;
let dir: string;

beforeAll(async () => {
  emu = await KmsEmulator.start({ region: 'eu-west-1' });
  kms = kmsClient(emu, 'eu-west-1');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-interop-'));
});
afterAll(async () => {
  kms.destroy();
  await emu.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => run('openssl', args);

/** Writes the DER public key and a PEM copy, as the guide's readers do. */
async function savePublicKey(publicKey: Uint8Array, stem: string): Promise<string> {
  fs.writeFileSync(file(`${stem}.der`), publicKey);
  await openssl('pkey', '-pubin', '-inform', 'DER', '-in', file(`${stem}.der`), '-out', file(`${stem}.pem`));
  return file(`${stem}.pem`);
}

function oaepArgs(hash: 'sha1' | 'sha256'): string[] {
  return ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`];
}

/** `openssl rand` AES key, `openssl enc -id-aes256-wrap-pad`, OAEP of the AES key, concatenated. */
async function opensslRsaAesWrap(pubPem: string, materialFile: string, hash: 'sha1' | 'sha256', stem: string): Promise<Buffer> {
  await openssl('rand', '-out', file(`${stem}-aes.bin`), '32');
  const aesHex = fs.readFileSync(file(`${stem}-aes.bin`)).toString('hex');
  await openssl('enc', '-id-aes256-wrap-pad', '-K', aesHex, '-iv', 'A65959A6', '-in', materialFile, '-out', file(`${stem}-kwp.bin`));
  await openssl('pkeyutl', '-encrypt', '-in', file(`${stem}-aes.bin`), '-out', file(`${stem}-aes-wrapped.bin`), '-inkey', pubPem, '-pubin', ...oaepArgs(hash));
  return Buffer.concat([fs.readFileSync(file(`${stem}-aes-wrapped.bin`)), fs.readFileSync(file(`${stem}-kwp.bin`))]);
}

describeWithTools(['openssl'], 'material wrapped by the openssl CLI', () => {
  test('RSAES_OAEP_SHA_256 with pkeyutl imports, and the key encrypts with that very material', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_256', 'RSA_3072');
    const pub = await savePublicKey(params.PublicKey!, 'oaep256');
    await openssl('rand', '-out', file('material-256.bin'), '32');
    await openssl('pkeyutl', '-encrypt', '-pubin', '-inkey', pub, '-in', file('material-256.bin'), '-out', file('wrapped-256.bin'), ...oaepArgs('sha256'));
    await kms.send(importCommand(md.KeyId, params, fs.readFileSync(file('wrapped-256.bin'))));
    const material = fs.readFileSync(file('material-256.bin'));
    expect(emu.inspectKey(md.Arn!)!.materials[0].sha256).toBe(crypto.createHash('sha256').update(material).digest('hex'));
    const enc = await kms.send(new EncryptCommand({ KeyId: md.KeyId, Plaintext: Buffer.from('openssl') }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('openssl');
  });

  test('RSAES_OAEP_SHA_1 with a DER public key (-keyform DER) imports', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId, 'RSAES_OAEP_SHA_1', 'RSA_2048');
    fs.writeFileSync(file('oaep1.der'), params.PublicKey!);
    await openssl('rand', '-out', file('material-1.bin'), '32');
    await openssl('pkeyutl', '-encrypt', '-in', file('material-1.bin'), '-out', file('wrapped-1.bin'), '-inkey', file('oaep1.der'), '-keyform', 'DER', '-pubin', ...oaepArgs('sha1'));
    await kms.send(importCommand(md.KeyId, params, fs.readFileSync(file('wrapped-1.bin'))));
    expect(emu.inspectKey(md.Arn!)!.keyState).toBe('Enabled');
  });

  test('RSA_AES_KEY_WRAP_SHA_256 of an openssl-generated P-384 PKCS#8 key imports, and KMS signs with it', async () => {
    const md = await createExternalKey(kms, { KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' });
    const params = await importParameters(kms, md.KeyId, 'RSA_AES_KEY_WRAP_SHA_256', 'RSA_4096');
    const pub = await savePublicKey(params.PublicKey!, 'rsaaes');
    await openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', file('ec.pem'));
    await openssl('pkcs8', '-topk8', '-nocrypt', '-in', file('ec.pem'), '-outform', 'DER', '-out', file('ec.der'));
    const wrapped = await opensslRsaAesWrap(pub, file('ec.der'), 'sha256', 'ec');
    await kms.send(importCommand(md.KeyId, params, wrapped));
    const sig = await kms.send(new SignCommand({ KeyId: md.KeyId, Message: Buffer.from('signed by imported key'), SigningAlgorithm: 'ECDSA_SHA_384' }));
    const publicKey = crypto.createPublicKey(fs.readFileSync(file('ec.pem')));
    expect(crypto.verify('sha384', Buffer.from('signed by imported key'), publicKey, Buffer.from(sig.Signature!))).toBe(true);
  });

  test('RSA_AES_KEY_WRAP_SHA_1 of symmetric material imports', async () => {
    const md = await createExternalKey(kms);
    const params = await importParameters(kms, md.KeyId, 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_2048');
    const pub = await savePublicKey(params.PublicKey!, 'rsaaes1');
    await openssl('rand', '-out', file('sym.bin'), '32');
    const wrapped = await opensslRsaAesWrap(pub, file('sym.bin'), 'sha1', 'sym');
    await kms.send(importCommand(md.KeyId, params, wrapped));
    expect(emu.inspectKey(md.Arn!)!.materials[0].sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(file('sym.bin'))).digest('hex'));
  });
});

describeWithTools(['aws', 'openssl'], 'the AWS CLI', () => {
  const aws = (...args: string[]) => awsKms(emu.endpoint, ...args);

  test('drives the manual import: create-key, get-parameters-for-import, openssl, import-key-material, describe-key', async () => {
    const created = await aws('create-key', '--origin', 'EXTERNAL', '--description', 'manual import');
    const keyId: string = created.KeyMetadata.KeyId;
    expect(created.KeyMetadata).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', Arn: `arn:aws:kms:eu-west-1:111122223333:key/${keyId}` });

    const params = await aws('get-parameters-for-import', '--key-id', keyId, '--wrapping-algorithm', 'RSAES_OAEP_SHA_256', '--wrapping-key-spec', 'RSA_2048');
    fs.writeFileSync(file('cli-token.bin'), Buffer.from(params.ImportToken, 'base64'));
    fs.writeFileSync(file('cli-pub.der'), Buffer.from(params.PublicKey, 'base64'));
    await openssl('rand', '-out', file('cli-material.bin'), '32');
    await openssl('pkeyutl', '-encrypt', '-in', file('cli-material.bin'), '-out', file('cli-wrapped.bin'), '-inkey', file('cli-pub.der'), '-keyform', 'DER', '-pubin', ...oaepArgs('sha256'));

    // An expiring import: botocore sends ValidTo as an epoch number.
    const validTo = new Date(emu.clock.now().getTime() + 30 * DAY);
    const imported = await aws(
      'import-key-material',
      '--key-id',
      keyId,
      '--encrypted-key-material',
      `fileb://${file('cli-wrapped.bin')}`,
      '--import-token',
      `fileb://${file('cli-token.bin')}`,
      '--expiration-model',
      'KEY_MATERIAL_EXPIRES',
      '--valid-to',
      validTo.toISOString(),
    );
    expect(imported.KeyMaterialId).toMatch(/^[0-9a-f]{64}$/);

    const described = await aws('describe-key', '--key-id', keyId);
    expect(described.KeyMetadata).toMatchObject({ KeyState: 'Enabled', Enabled: true, ExpirationModel: 'KEY_MATERIAL_EXPIRES', CurrentKeyMaterialId: imported.KeyMaterialId });
    // AWS CLI v1 prints timestamps as it received them: epoch seconds.
    expect(typeof described.KeyMetadata.ValidTo).toBe('number');
    expect(Math.abs(described.KeyMetadata.ValidTo * 1000 - validTo.getTime())).toBeLessThan(1500);
    expect(emu.inspectKey(keyId, 'eu-west-1')!.materials[0].sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(file('cli-material.bin'))).digest('hex'));

    // Errors reach the CLI as the KMS error names.
    await expect(
      aws('import-key-material', '--key-id', keyId, '--encrypted-key-material', `fileb://${file('cli-wrapped.bin')}`, '--import-token', `fileb://${file('cli-token.bin')}`, '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE'),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('InvalidImportTokenException') });
  });
});
