import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runDemo } from '../../bin/demo';

test('the demo imports the secret\'s material end to end and proves it with a round trip', async () => {
  const lines: string[] = [];
  const result = await runDemo((l) => lines.push(l));
  expect(result).toMatchObject({ keyState: 'Enabled', materialMatches: true, roundTrip: true });
  expect(lines).toContainEqual(expect.stringMatching(/^KeyArn: arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36}$/));
  expect(lines).toContainEqual(expect.stringMatching(/^Encrypt\/Decrypt round trip: OK .* equals the secret's material$/));
});

test('npm run demo needs Node only: bin/demo.js succeeds with only node on PATH (no python3, no openssl)', () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-node-only-'));
  try {
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'demo.js')], { env: { ...process.env, PATH: bin }, encoding: 'utf8', timeout: 120_000 });
    expect(spawnSync('python3', ['--version'], { env: { PATH: bin } }).error).toBeDefined();
    expect(spawnSync('openssl', ['version'], { env: { PATH: bin } }).error).toBeDefined();
    expect({ status: run.status, arnLine: /^KeyArn: arn:aws:kms:/m.test(run.stdout) }).toEqual({ status: 0, arnLine: true });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}, 120_000);
