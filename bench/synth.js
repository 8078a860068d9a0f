'use strict';
// Synth cost: N ExternalKeys vs N plain kms.Key, in one process, interleaved so that both see
// the same machine (and, run by bench/run.js as `synth.js cold ...`, once in a fresh process). Each sample is a fresh App: construct the stack, then app.synth() into a
// fresh directory (what `cdk synth` does in the app process). One warm-up of each first, so that
// module loading and the handler asset's fingerprint (cached per process by the CDK) are not in
// the first sample. Started by bench/run.js with child_process.fork; results via IPC.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Stack } = require('aws-cdk-lib');
const { summary, median, REGION, ACCOUNT } = require('./util');

// Each kind loads only its own modules (on first use, inside the timed part), so that a fresh
// process synthesizing plain keys does not pay for loading this library.
const KINDS = {
  external: (stack, i) => {
    const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
    const { ExternalKey, KeyMaterial } = require('../lib');
    return new ExternalKey(stack, `Key${i}`, {
      material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `Material${i}`, `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:byok/key-${i}-AbCdEf`)),
    });
  },
  plain: (stack, i) => new (require('aws-cdk-lib/aws-kms').Key)(stack, `Key${i}`),
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
    const template = JSON.parse(text);
    const resources = Object.values(template.Resources ?? {});
    const byType = {};
    for (const r of resources) byType[r.Type] = (byType[r.Type] ?? 0) + 1;
    return { ms, templateBytes: Buffer.byteLength(text), resources: resources.length, lambdas: byType['AWS::Lambda::Function'] ?? 0, byType, rolePolicyChars: rolePolicyChars(template) };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Characters of the inline policies attached to the import handler's role, as IAM counts them
 * (compact JSON), with each reference to a key's ARN replaced by a real-length ARN (75
 * characters). IAM allows 10,240 in total per role.
 */
function rolePolicyChars(template) {
  const resources = template.Resources ?? {};
  const roleId = Object.keys(resources).find((id) => resources[id].Type === 'AWS::IAM::Role' && id.startsWith('CdkKmsByokImportProviderRole'));
  if (!roleId) return 0;
  const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
  const resolveRefs = (v) => {
    if (Array.isArray(v)) return v.map(resolveRefs);
    if (v && typeof v === 'object') {
      if (v['Fn::GetAtt']) return keyArn;
      if (v['Fn::Join']) return resolveRefs(v['Fn::Join'][1]).join(v['Fn::Join'][0]);
      if (v.Ref) return v.Ref.startsWith('AWS::') ? (v.Ref === 'AWS::Partition' ? 'aws' : v.Ref === 'AWS::Region' ? REGION : ACCOUNT) : keyArn;
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x)]));
    }
    return v;
  };
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(roleId))
    .reduce((sum, r) => sum + JSON.stringify(resolveRefs(r.Properties.PolicyDocument)).length, 0);
}

function run({ sizes, reps }) {
  // Warm-up at the largest size: the first large synth of a process also pays for JIT
  // compilation and heap growth, which a one-shot `cdk synth` pays too but which would make the
  // first sample of each size an outlier here.
  for (const kind of ['external', 'plain']) synthOnce(kind, Math.max(...sizes));
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
    // For the largest N, the same again without the CDK's built-in CloudFormation validation
    // (aws-cdk-lib ≥ 2.27x runs it on every synth; CDK_VALIDATION=false turns it off): how much
    // of each kind's time is that validation, which grows with the template's size.
    let withoutValidation;
    if (n === Math.max(...sizes)) {
      const off = { external: [], plain: [] };
      process.env.CDK_VALIDATION = 'false';
      try {
        for (let r = 0; r < (reps[n] ?? 3); r++) {
          for (const kind of r % 2 ? ['plain', 'external'] : ['external', 'plain']) off[kind].push(synthOnce(kind, n).ms);
        }
      } finally {
        delete process.env.CDK_VALIDATION;
      }
      withoutValidation = { externalMs: summary(off.external, 1), plainMs: summary(off.plain, 1), ratio: Number(median(off.external.map((x, i) => x / off.plain[i])).toFixed(2)) };
    }
    rows.push({
      n, withoutValidation,
      externalMs: summary(samples.external.map((s) => s.ms), 1),
      plainMs: summary(samples.plain.map((s) => s.ms), 1),
      ratio: Number(median(ratios).toFixed(2)),
      external: { templateBytes: last.external.templateBytes, resources: last.external.resources, lambdas: last.external.lambdas, byType: last.external.byType, rolePolicyChars: last.external.rolePolicyChars },
      plain: { templateBytes: last.plain.templateBytes, resources: last.plain.resources, lambdas: last.plain.lambdas },
    });
  }
  return { rows };
}

// `node bench/synth.js cold <external|plain> <n>`: one synth in this fresh process, as `cdk synth`
// runs an app; prints the time from process start (so module loading is included).
if (process.argv[2] === 'cold') {
  const r = synthOnce(process.argv[3], Number(process.argv[4]));
  console.log(JSON.stringify({ sinceStartMs: performance.now(), synthMs: r.ms }));
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
