'use strict';
// Synth cost: N ExternalKeys vs N plain kms.Key, in one process, interleaved so that both see
// the same machine. Each sample is a fresh App: construct the stack, then app.synth() into a
// fresh directory (what `cdk synth` does in the app process). One warm-up of each first, so that
// module loading and the handler asset's fingerprint (cached per process by the CDK) are not in
// the first sample. Started by bench/run.js with child_process.fork; results via IPC.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Stack } = require('aws-cdk-lib');
const kms = require('aws-cdk-lib/aws-kms');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { ExternalKey, KeyMaterial } = require('../lib');
const { summary, median, REGION, ACCOUNT } = require('./util');

const KINDS = {
  external: (stack, i) => new ExternalKey(stack, `Key${i}`, {
    material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `Material${i}`, `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:byok/key-${i}-AbCdEf`)),
  }),
  plain: (stack, i) => new kms.Key(stack, `Key${i}`),
};

function synthOnce(kind, n) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-synth-'));
  try {
    const t0 = performance.now();
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bench', { env: { account: ACCOUNT, region: REGION } });
    for (let i = 0; i < n; i++) KINDS[kind](stack, i);
    const assembly = app.synth();
    const ms = performance.now() - t0;
    const file = path.join(outdir, assembly.getStackByName('Bench').templateFile);
    const text = fs.readFileSync(file, 'utf8');
    const resources = Object.values(JSON.parse(text).Resources ?? {});
    const byType = {};
    for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
    return { ms, templateBytes: Buffer.byteLength(text), resources: resources.length, lambdas: byType['AWS::Lambda::Function'] ?? 0, byType };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function run({ sizes, reps }) {
  synthOnce('external', 1);
  synthOnce('plain', 1);
  const rows = [];
  for (const n of sizes) {
    const samples = { external: [], plain: [] };
    for (let r = 0; r < (reps[n] ?? 3); r++) {
      // Alternate which goes first.
      const order = r % 2 ? ['plain', 'external'] : ['external', 'plain'];
      for (const kind of order) samples[kind].push(synthOnce(kind, n));
    }
    const ratios = samples.external.map((s, i) => s.ms / samples.plain[i].ms);
    const last = { external: samples.external.at(-1), plain: samples.plain.at(-1) };
    rows.push({
      n,
      externalMs: summary(samples.external.map((s) => s.ms), 1),
      plainMs: summary(samples.plain.map((s) => s.ms), 1),
      ratio: Number(median(ratios).toFixed(2)),
      external: { templateBytes: last.external.templateBytes, resources: last.external.resources, lambdas: last.external.lambdas, byType: last.external.byType },
      plain: { templateBytes: last.plain.templateBytes, resources: last.plain.resources, lambdas: last.plain.lambdas },
    });
  }
  return { rows };
}

process.on('message', (msg) => {
  if (msg.type !== 'run') return;
  try {
    const result = run(msg.plan);
    process.send({ type: 'result', result }, () => process.exit(0));
  } catch (e) {
    process.send({ type: 'error', error: String(e?.stack ?? e) }, () => process.exit(1));
  }
});
