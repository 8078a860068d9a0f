#!/usr/bin/env node
/**
 * `npm run demo`: the example app end to end, with no AWS account. It starts the local KMS
 * emulator and the kit's Secrets Manager on 127.0.0.1 (Node only, no Python), stores fresh key material in a secret,
 * synthesizes bin/app.js exactly as `cdk synth` would (CDK_OUTDIR + CDK_CONTEXT_JSON), plays the
 * template against the local servers (the bundled handler from cdk.out does the import), and
 * proves with an Encrypt/Decrypt round trip that the key holds the secret's material.
 */
import { execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { openSymmetric, parseSymmetric } from '../testing/emulator/ciphertext';
import { LocalCloud } from '../testing/harness';

export interface DemoResult {
  readonly keyArn: string;
  readonly keyState: string;
  readonly materialMatches: boolean;
  readonly roundTrip: boolean;
  readonly lines: string[];
}

export async function runDemo(print: (line: string) => void = console.log): Promise<DemoResult> {
  const lines: string[] = [];
  const say = (line: string) => { lines.push(line); print(line); };
  const region = 'us-east-1';
  const cloud = await LocalCloud.start({ region });
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-demo-'));
  try {
    say(`local KMS emulator: ${cloud.kms.endpoint}   local Secrets Manager: ${cloud.secretsEndpoint}`);

    // What `openssl rand -base64 32` would give you, stored as the customer's key material.
    const material = randomBytes(32);
    const secretArn = await cloud.createSecret('byok/key-material', { secretString: material.toString('base64') }, region);
    const fingerprint = createHash('sha256').update(material).digest('hex');
    say(`secret with fresh key material: ${secretArn} (sha256 ${fingerprint.slice(0, 16)}...)`);

    // Exactly what the CDK CLI does for `cdk synth -c ...`.
    execFileSync(process.execPath, [path.join(__dirname, 'app.js')], {
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ secretArn, partnerAccountId: '123456789012', alias: 'alias/bluescape-workspace', region, account: cloud.accountId }),
      },
      stdio: 'inherit',
    });
    say(`synthesized the example app into ${outdir}`);

    const stack = await cloud.deploy(outdir, `PartnerKey-${cloud.accountId}-${region}`);
    const keyArn = stack.outputs.KeyArn;
    say(`KeyArn: ${keyArn}`);

    const kms = cloud.kmsClient(region);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/bluescape-workspace' }));
    const imported = cloud.kms.inspectKey(keyArn);
    const materialMatches = imported?.materials.some((m) => m.sha256 === fingerprint) ?? false;
    const plaintext = Buffer.from('hello from the partner');
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext }));
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
    // The emulator's ciphertext format is documented (testing/emulator/ciphertext.ts): AES-GCM
    // under the key material. Opening it with the secret's own bytes proves which material KMS used.
    const blob = parseSymmetric(Buffer.from(CiphertextBlob!));
    const openedWithSecret = blob ? openSymmetric(blob, material) : undefined;
    material.fill(0);
    const roundTrip = Buffer.from(Plaintext!).equals(plaintext) && openedWithSecret?.equals(plaintext) === true;
    say(`key state: ${KeyMetadata?.KeyState}, origin ${KeyMetadata?.Origin}, alias alias/bluescape-workspace -> ${KeyMetadata?.KeyId}`);
    say(`Encrypt/Decrypt round trip: ${roundTrip ? 'OK' : 'FAILED'} (KMS Decrypt, and the ciphertext opened locally with the secret's own bytes); material imported into KMS (sha256 ${imported?.materials[0]?.sha256.slice(0, 16)}...) ${materialMatches ? 'equals' : 'DIFFERS FROM'} the secret's material`);
    return { keyArn, keyState: KeyMetadata?.KeyState ?? '', materialMatches, roundTrip, lines };
  } finally {
    await cloud.stop();
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runDemo().then((r) => {
    process.exit(r.materialMatches && r.roundTrip && r.keyState === 'Enabled' ? 0 : 1);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}
