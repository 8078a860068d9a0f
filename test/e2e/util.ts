import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { LocalCloud, LocalStack } from '../../testing/harness';

export const REGION = 'us-east-1';
export const ACCOUNT = '111122223333';

/**
 * A fresh temporary directory, removed after the test file's last test (the harness reads the
 * handler bundle from an assembly until then).
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}
const created: string[] = [];
// Registered when a test file imports this module (hooks cannot be added from inside a test).
afterAll(() => { for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

/**
 * KMS's request quotas raised 20× in proportion (GetParametersForImport 5 per second instead of
 * one every 4 s): these tests are about other things, and a stack of 12 keys would otherwise wait
 * 44 s. They are still throttled when they deploy many keys at once. quotas.test.ts is about
 * the quotas themselves.
 */
export const RAISED_QUOTAS = { emulator: { quotas: { scale: 20 } } };

/** Synthesizes a one-stack app into a fresh directory; returns the directory. */
export function synth(build: (stack: Stack) => void, stackName = 'E2E', env: { account?: string; region?: string } = { account: ACCOUNT, region: REGION }): string {
  const outdir = tempDir('byok-e2e-');
  const app = new App({ outdir });
  const stack = new Stack(app, stackName, { env });
  build(stack);
  app.synth();
  return outdir;
}

export function secretByArn(stack: Stack, id: string, arn: string): secretsmanager.ISecret {
  return secretsmanager.Secret.fromSecretCompleteArn(stack, id, arn);
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The material fingerprints the emulator holds for a key. */
export function fingerprints(cloud: LocalCloud, keyArn: string): string[] {
  return cloud.kms.inspectKey(keyArn)?.materials.map((m) => m.sha256) ?? [];
}

/** Every invocation answered its ResponseURL exactly once. */
export function expectEveryInvocationAnswered(stack: LocalStack): void {
  for (const inv of stack.invocations) {
    if (inv.answers.length !== 1) throw new Error(`${inv.logicalId} ${inv.event.RequestType} answered ${inv.answers.length} times`);
  }
}

/** Synthesizes bin/app.js exactly as the CDK CLI does (CDK_OUTDIR + CDK_CONTEXT_JSON); returns the directory. */
export function synthExampleApp(context: Record<string, unknown>, outdir = tempDir('byok-app-')): string {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'app.js')], {
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return outdir;
}

/** The stack artifact names of a synthesized assembly. */
export function stackNames(outdir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  return Object.entries(manifest.artifacts).filter(([, a]: any) => a.type === 'aws:cloudformation:stack').map(([name]) => name);
}
