'use strict';
// Deployments under KMS's default request quotas (the emulator's token buckets, as LocalCloud
// starts it): one stack with N ExternalKeys, and a rollout of K keys to each of A accounts at
// once. KMS allows one GetParametersForImport every 4 s per account and Region (AWS KMS
// Developer Guide, "Request quotas"), so N imports in one account take at least 4·(N−1) s: the
// quota floor each row is compared with. Every custom resource is a fresh Node process of the
// bundled handler, all of a stack's started at once as CloudFormation does.
// Started by bench/run.js with child_process.fork; results via IPC.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { randomBytes } = require('crypto');
const { setTimeout: sleep } = require('timers/promises');
const { App, Stack } = require('aws-cdk-lib');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { now, REGION, ACCOUNT, serveWorker } = require('./util');
const wrappingPool = require('./wrapping-pool');

const GET_PARAMETERS_INTERVAL_MS = 4_000;
const floorMs = (keysPerAccount) => GET_PARAMETERS_INTERVAL_MS * Math.max(0, keysPerAccount - 1);

async function run(plan) {
  wrappingPool.install(plan.pairs);
  const { ExternalKey, KeyMaterial } = require('../lib');
  const { LocalCloud } = require('../testing/harness');
  const accounts = Array.from({ length: plan.accounts.count }, (_, i) => String(444455550000 + i));
  const cloud = await LocalCloud.start({ region: REGION, accountId: ACCOUNT, accounts });
  const dirs = [];
  const synth = (build) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-quotas-'));
    const app = new App({ outdir });
    build(app);
    app.synth();
    dirs.push(outdir);
    return outdir;
  };
  const keysStack = (app, name, account, arns) => {
    const stack = new Stack(app, name, { env: { account, region: REGION } });
    arns.forEach((arn, i) => new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `Material${i}`, arn)) }));
  };
  const secrets = (n, tag) => Promise.all(Array.from({ length: n }, (_, i) => cloud.createSecret(`quotas/${tag}/${i}-${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') })));

  /** Deploys the stacks at once; counts the imports that did not answer SUCCESS. */
  async function deployAll(outdir, names) {
    cloud.kms.clearCalls();
    // The GetParametersForImport bucket holds one request: after 4 s every account's is full.
    await sleep(GET_PARAMETERS_INTERVAL_MS);
    const t0 = now();
    const settled = await Promise.allSettled(names.map((name) => cloud.deploy(outdir, name, {})));
    const deployMs = Math.round(now() - t0);
    const rejected = settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason?.message ?? s.reason).slice(0, 300));
    const calls = cloud.kms.calls;
    const imports = calls.filter((c) => c.operation === 'ImportKeyMaterial' && c.status === 200).length;
    return {
      deployMs,
      imported: imports,
      throttledRequests: calls.filter((c) => c.errorType === 'ThrottlingException').length,
      errors: rejected,
    };
  }

  try {
    const rows = [];
    for (const keys of plan.keyCounts) {
      const arns = await secrets(keys, `keys${keys}`);
      const name = `QuotaKeys${keys}`;
      const outdir = synth((app) => keysStack(app, name, ACCOUNT, arns));
      const r = await deployAll(outdir, [name]);
      rows.push({ keys, accounts: 1, deployMs: r.deployMs, quotaFloorMs: floorMs(keys), failed: keys - r.imported, vsFloor: keys > 1 ? Number((r.deployMs / floorMs(keys)).toFixed(3)) : null, throttledRequests: r.throttledRequests, errors: r.errors });
      process.stderr.write(`[quotas] ${JSON.stringify(rows.at(-1))}\n`);
    }
    const { count, keysPerAccount } = plan.accounts;
    if (count > 0) {
      const arns = await secrets(count * keysPerAccount, 'accounts');
      const names = accounts.map((_, a) => `QuotaAccount${a}`);
      const outdir = synth((app) => accounts.forEach((account, a) => keysStack(app, names[a], account, arns.slice(a * keysPerAccount, (a + 1) * keysPerAccount))));
      const r = await deployAll(outdir, names);
      const keys = count * keysPerAccount;
      rows.push({ keys, accounts: count, deployMs: r.deployMs, quotaFloorMs: floorMs(keysPerAccount), failed: keys - r.imported, vsFloor: Number((r.deployMs / floorMs(keysPerAccount)).toFixed(3)), oneAccountFloorMs: floorMs(keys), throttledRequests: r.throttledRequests, errors: r.errors });
      process.stderr.write(`[quotas] ${JSON.stringify(rows.at(-1))}\n`);
    }
    return { rows };
  } finally {
    await cloud.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

serveWorker(run);
