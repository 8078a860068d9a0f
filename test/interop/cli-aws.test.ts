/**
 * The standalone server, `cdk-kms-byok-emulator` (testing/cli.js, after `npm run build`), driven by
 * the AWS CLI through the manual import recipe, with openssl wrapping the material. Needs the AWS
 * CLI and openssl (test/tools.ts); the Node-only tests of the server are test/testing-kit/cli.test.ts.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { awsKms } from '../emulator/helpers';
import { Server, startServer, stopServer } from '../testing-kit/cli-server';
import { describeWithTools } from '../tools';

const run = promisify(execFile);

let server: Server | undefined;
let dir: string;

afterAll(async () => {
  if (server?.child.exitCode === null && server.child.signalCode === null) await stopServer(server, 'SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describeWithTools(['aws', 'openssl'], 'the AWS CLI against the standalone server', () => {
  beforeAll(async () => {
    server = await startServer('--port', '0', '--quotas', 'off');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-cli-'));
  });
  const file = (name: string) => path.join(dir, name);
  const aws = (...args: string[]) => awsKms(server!.endpoint, ...args);
  const openssl = (...args: string[]) => run('openssl', args);

  test('runs the manual import: create-key, get-parameters-for-import, openssl rand and pkeyutl, import-key-material, describe-key', async () => {
    const created = await aws('create-key', '--origin', 'EXTERNAL', '--description', 'manual import');
    const keyId: string = created.KeyMetadata.KeyId;
    expect(created.KeyMetadata).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', Arn: `arn:aws:kms:eu-west-1:111122223333:key/${keyId}` });

    const params = await aws('get-parameters-for-import', '--key-id', keyId, '--wrapping-algorithm', 'RSAES_OAEP_SHA_256', '--wrapping-key-spec', 'RSA_2048');
    fs.writeFileSync(file('pub.der'), Buffer.from(params.PublicKey, 'base64'));
    fs.writeFileSync(file('token.bin'), Buffer.from(params.ImportToken, 'base64'));
    await openssl('rand', '-out', file('material.bin'), '32');
    await openssl(
      'pkeyutl', '-encrypt', '-pubin', '-inkey', file('pub.der'), '-keyform', 'DER',
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
      '-in', file('material.bin'), '-out', file('wrapped.bin'),
    );

    const imported = await aws(
      'import-key-material', '--key-id', keyId,
      '--encrypted-key-material', `fileb://${file('wrapped.bin')}`,
      '--import-token', `fileb://${file('token.bin')}`,
      '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    );
    expect(imported).toMatchObject({ KeyId: created.KeyMetadata.Arn, KeyMaterialId: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const described = await aws('describe-key', '--key-id', keyId);
    expect(described.KeyMetadata).toMatchObject({
      KeyState: 'Enabled', Enabled: true, Origin: 'EXTERNAL',
      ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', CurrentKeyMaterialId: imported.KeyMaterialId,
    });

    // The key now encrypts with the material openssl made: the AWS CLI round-trips through it.
    const encrypted = await aws('encrypt', '--key-id', keyId, '--plaintext', `fileb://${file('material.bin')}`);
    fs.writeFileSync(file('ciphertext.bin'), Buffer.from(encrypted.CiphertextBlob, 'base64'));
    const decrypted = await aws('decrypt', '--ciphertext-blob', `fileb://${file('ciphertext.bin')}`);
    expect(Buffer.from(decrypted.Plaintext, 'base64').equals(fs.readFileSync(file('material.bin')))).toBe(true);

    // A spent token reaches the CLI as KMS's error name.
    await expect(aws(
      'import-key-material', '--key-id', keyId,
      '--encrypted-key-material', `fileb://${file('wrapped.bin')}`,
      '--import-token', `fileb://${file('token.bin')}`,
      '--expiration-model', 'KEY_MATERIAL_DOES_NOT_EXPIRE',
    )).rejects.toMatchObject({ stderr: expect.stringContaining('InvalidImportTokenException') });
  });
});
