/**
 * The standalone server, `cdk-kms-byok-emulator` (testing/cli.js), as a separate process, driven
 * by the SDK through every KMS operation the import handler (and CloudFormation, for replicas)
 * calls. Needs `npm run build` (testing/cli.js) and Node only; the AWS CLI's manual import against
 * the same server is test/interop/cli-aws.test.ts.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ImportType,
  KMSClient,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
} from '@aws-sdk/client-kms';
import { CLI, Server, startServer, stopServer } from './cli-server';

function kmsClient(endpoint: string, region: string): KMSClient {
  return new KMSClient({ endpoint, region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'dummy' } });
}

/** RSAES_OAEP_SHA_256 with node's crypto, as the handler does (not the emulator's code). */
function wrapOaepSha256(publicKeyDer: Uint8Array, material: Buffer): Buffer {
  const key = crypto.createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  return crypto.publicEncrypt({ key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
}

let server: Server;

beforeAll(async () => {
  // These tests import into one key after another, faster than KMS's default quotas allow.
  server = await startServer('--port', '0', '--quotas', 'off');
});
afterAll(async () => {
  if (server?.child.exitCode === null && server.child.signalCode === null) await stopServer(server, 'SIGKILL');
});

describe('the SDK against the standalone server, through the handler\'s operations', () => {
  let primary: KMSClient;
  let replicaRegion: KMSClient;
  beforeAll(() => {
    primary = kmsClient(server.endpoint, 'us-east-1');
    replicaRegion = kmsClient(server.endpoint, 'eu-west-1');
  });
  afterAll(() => {
    primary?.destroy();
    replicaRegion?.destroy();
  });

  /** GetParametersForImport + ImportKeyMaterial, as the handler does them. */
  async function importMaterial(kms: KMSClient, keyId: string, material: Buffer, importType?: ImportType) {
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' }));
    expect(crypto.createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(params.ParametersValidTo!.getTime() - Date.now()).toBeGreaterThan(23.9 * 3600e3);
    return kms.send(new ImportKeyMaterialCommand({
      KeyId: keyId,
      ImportToken: params.ImportToken,
      EncryptedKeyMaterial: wrapOaepSha256(params.PublicKey!, material),
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      ImportType: importType,
    }));
  }

  test('GetParametersForImport, ImportKeyMaterial, DescribeKey, new material with RotateKeyOnDemand, DeleteImportedKeyMaterial', async () => {
    const { KeyMetadata: created } = await primary.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
    const keyArn = created!.Arn!;
    const first = await importMaterial(primary, keyArn, crypto.randomBytes(32));
    expect(first.KeyId).toBe(keyArn);
    expect((await primary.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', CurrentKeyMaterialId: first.KeyMaterialId });
    const before = (await primary.send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from('before rotation') }))).CiphertextBlob;

    // The handler's rotation: the new material waits as NEW_KEY_MATERIAL, RotateKeyOnDemand makes it current.
    const second = await importMaterial(primary, keyArn, crypto.randomBytes(32), 'NEW_KEY_MATERIAL');
    expect(second.KeyMaterialId).not.toBe(first.KeyMaterialId);
    expect((await primary.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }))).KeyId).toBe(keyArn);
    expect((await primary.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.CurrentKeyMaterialId).toBe(second.KeyMaterialId);
    const old = await primary.send(new DecryptCommand({ CiphertextBlob: before }));
    expect({ text: Buffer.from(old.Plaintext!).toString(), keyMaterialId: old.KeyMaterialId }).toEqual({ text: 'before rotation', keyMaterialId: first.KeyMaterialId });

    // The handler's crypto-shredding.
    await primary.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyArn }));
    expect((await primary.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe('PendingImport');
  });

  test('ReplicateKey, and the replica takes its primary\'s material as EXISTING_KEY_MATERIAL', async () => {
    const { KeyMetadata: created } = await primary.send(new CreateKeyCommand({ Origin: 'EXTERNAL', MultiRegion: true }));
    const material = crypto.randomBytes(32);
    const primaryImport = await importMaterial(primary, created!.KeyId!, material);
    const { ReplicaKeyMetadata } = await primary.send(new ReplicateKeyCommand({ KeyId: created!.KeyId, ReplicaRegion: 'eu-west-1' }));
    const replicaArn = `arn:aws:kms:eu-west-1:111122223333:key/${created!.KeyId}`;
    expect(ReplicaKeyMetadata).toMatchObject({ Arn: replicaArn, Origin: 'EXTERNAL', MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } });
    expect((await replicaRegion.send(new DescribeKeyCommand({ KeyId: replicaArn }))).KeyMetadata?.KeyState).toBe('PendingImport');

    const replicaImport = await importMaterial(replicaRegion, replicaArn, material, 'EXISTING_KEY_MATERIAL');
    expect(replicaImport.KeyMaterialId).toBe(primaryImport.KeyMaterialId);
    expect((await replicaRegion.send(new DescribeKeyCommand({ KeyId: replicaArn }))).KeyMetadata?.KeyState).toBe('Enabled');
    const blob = (await primary.send(new EncryptCommand({ KeyId: created!.Arn, Plaintext: Buffer.from('cross-region') }))).CiphertextBlob;
    expect(Buffer.from((await replicaRegion.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('cross-region');
  });

  test('errors arrive as KMS\'s exceptions with their HTTP status', async () => {
    const err = await primary.send(new DescribeKeyCommand({ KeyId: 'alias/does-not-exist' })).catch((e) => e);
    expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name: 'NotFoundException', status: 400 });
  });
});

describe('the server process', () => {
  test('SIGTERM stops it with exit code 0, and stdout held only the listening line', async () => {
    const { code, signal } = await stopServer(server, 'SIGTERM');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toBe(`listening on ${server.endpoint}\n`);
  });

  test('--region, --account and --clock set the defaults and the time; SIGINT stops it with exit code 0', async () => {
    const other = await startServer('--port', '0', '--region', 'ap-southeast-2', '--account', '444455556666', '--clock', '2027-01-01T00:00:00Z');
    try {
      // An unsigned request: the Region and account are the server's defaults.
      const response = await fetch(other.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.CreateKey' },
        body: JSON.stringify({ Origin: 'EXTERNAL' }),
      });
      const { KeyMetadata } = await response.json() as { KeyMetadata: { Arn: string; CreationDate: number } };
      expect(KeyMetadata.Arn).toMatch(/^arn:aws:kms:ap-southeast-2:444455556666:key\//);
      const created = KeyMetadata.CreationDate * 1000 - Date.parse('2027-01-01T00:00:00Z');
      expect(created).toBeGreaterThanOrEqual(0);
      expect(created).toBeLessThan(60_000);
    } finally {
      expect(await stopServer(other, 'SIGINT')).toEqual({ code: 0, signal: null });
    }
  });

  test('a port in use is exit code 1 with a message', async () => {
    const first = await startServer('--port', '0');
    try {
      const second = spawnSync(process.execPath, [CLI, '--port', String(first.port)], { encoding: 'utf8' });
      expect({ status: second.status, stdout: second.stdout }).toEqual({ status: 1, stdout: '' });
      expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${first.port}: the port is in use`);
    } finally {
      await stopServer(first, 'SIGTERM');
    }
  });

  test('KMS\'s request quotas are on by default: a second GetParametersForImport within 4 s is throttled', async () => {
    const throttling = await startServer('--port', '0');
    const kms = new KMSClient({ endpoint: throttling.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      const { KeyMetadata: key } = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
      const parameters = () => kms.send(new GetParametersForImportCommand({ KeyId: key!.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
      await parameters();
      await expect(parameters()).rejects.toMatchObject({ name: 'ThrottlingException', message: 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.' });
    } finally {
      kms.destroy();
      await stopServer(throttling, 'SIGTERM');
    }
  });

  test('--help prints the usage and exits 0', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cdk-kms-byok-emulator \[--port 4599\] \[--region us-east-1\] \[--account 111122223333\] \[--clock /);
  });

  test.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--port'], "option '--port' needs a value"],
    [['--port', 'http'], "--port 'http' is not a port number"],
    [['--port', '70000'], "--port '70000' is not a port number"],
    [['--region', 'moon'], "--region 'moon' is not an AWS Region name"],
    [['--account', '1234'], "--account '1234' is not a 12-digit AWS account id"],
    [['--clock', 'tomorrow'], "--clock 'tomorrow' is not an ISO 8601 time"],
    [['--quotas', 'maybe'], "--quotas 'maybe' is not 'on' or 'off'"],
    [['4599'], "unexpected argument '4599'"],
  ])('%j is a usage error: exit code 2 and a message', (args, message) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 2, stdout: '' });
    expect(result.stderr).toContain(`cdk-kms-byok-emulator: ${message}`);
  });
});
