#!/usr/bin/env node
// `npm run integ:snapshot`: synthesizes each integration test app (test/integ.*.ts) into its
// snapshot directory (test/integ.<name>.ts.snapshot/), the way @aws-cdk/integ-runner does before
// and after a deployment, so that the snapshot can be committed and checked by `npm test`
// (test/package/integ-snapshot.test.ts) without an AWS account:
//   - the app runs as integ-runner's TypeScript preset runs it: node -r ts-node/register <file>,
//     from the repository root;
//   - with integ-runner's context: the currently recommended feature flags (aws-cdk-lib's own
//     list) and no path metadata, asset metadata or version reporting;
//   - with integ-runner's dummy environment variables (CDK_INTEG_ACCOUNT, ...).
// After a real run, integ-runner rewrites the snapshot itself; commit whichever is newer.
//
// Usage: node scripts/integ-snapshot.js [test/integ.x.ts ...]   (default: every test/integ.*.ts)
//        node scripts/integ-snapshot.js --out <dir> test/integ.x.ts   (synthesize elsewhere)
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');

/** The context integ-runner synthesizes with (runner-base.ts getContext + the CLI's defaults). */
function integContext() {
  return {
    ...require('aws-cdk-lib/recommended-feature-flags.json'),
    'aws:cdk:enable-path-metadata': false,
    'aws:cdk:enable-asset-metadata': false,
    'aws:cdk:version-reporting': false,
  };
}

/** integ-runner's DEFAULT_SYNTH_OPTIONS.env: dummy values, so snapshots do not depend on who runs them. */
const INTEG_ENV = {
  CDK_INTEG_ACCOUNT: '12345678',
  CDK_INTEG_REGION: 'test-region',
  CDK_INTEG_HOSTED_ZONE_ID: 'Z23ABC4XYZL05B',
  CDK_INTEG_HOSTED_ZONE_NAME: 'example.com',
  CDK_INTEG_DOMAIN_NAME: '*.example.com',
  CDK_INTEG_CERT_ARN: 'arn:aws:acm:test-region:12345678:certificate/86468209-a272-595d-b831-0efb6421265z',
  CDK_INTEG_SUBNET_ID: 'subnet-0dff1a399d8f6f92c',
};

/** Synthesizes one integ app (path relative to the repository root) into `outdir`, replacing it. */
function synthIntegApp(file, outdir) {
  fs.rmSync(outdir, { recursive: true, force: true });
  const env = { ...process.env, ...INTEG_ENV, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(integContext()) };
  delete env.CDK_DEFAULT_ACCOUNT;
  delete env.CDK_DEFAULT_REGION;
  execFileSync(process.execPath, ['-r', 'ts-node/register', file], { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  // The CLI's zip cache of assets; integ-runner drops it from snapshots too.
  fs.rmSync(path.join(outdir, '.cache'), { recursive: true, force: true });
  return outdir;
}

function integApps() {
  return fs.readdirSync(path.join(root, 'test'))
    .filter((f) => /^integ\.(?!.*\.d\.ts$).*\.ts$/.test(f))
    .map((f) => path.join('test', f));
}

module.exports = { synthIntegApp, integApps, integContext };

if (require.main === module) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? path.resolve(args.splice(outIndex, 2)[1]) : undefined;
  const files = args.length ? args : integApps();
  if (out && files.length !== 1) throw new Error('--out takes exactly one integ test file');
  for (const file of files) {
    const outdir = out ?? path.join(root, `${file}.snapshot`);
    synthIntegApp(file, outdir);
    console.log(`${file} -> ${path.relative(root, outdir) || outdir}`);
  }
}
