'use strict';
// Scale through the harness (testing/harness LocalCloud): synthesized stacks are deployed as
// CloudFormation would, every custom resource invocation running the bundled handler from the
// cloud assembly in a fresh Node process (a cold Lambda). Every KMS call and every Secrets
// Manager call gets the same injected latency (the emulator's setLatency, and a delaying proxy in
// front of the local Secrets Manager that the handler is pointed at through AWS_ENDPOINT_URL_SECRETS_MANAGER).
// - keys: one stack with N ExternalKeys, all created at once (deploy concurrency N);
// - regions: a multi-Region primary ExternalKey, then R replica stacks (ExternalKeyReplica, one
//   per region, each with its own handler) deployed in parallel, as a pipeline deploys
//   independent stacks. Only the replica deployment is timed.
// Started by bench/run.js with child_process.fork; results via IPC.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { randomBytes } = require('crypto');
const { setTimeout: sleep } = require('timers/promises');
const { App, Stack } = require('aws-cdk-lib');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { now, median, summary, REGION, ACCOUNT, REPLICA_REGIONS, serveWorker, forwardingServer, listenLocal } = require('./util');
const wrappingPool = require('./wrapping-pool');

function synth(build) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-scale-'));
  const app = new App({ outdir });
  build(app);
  app.synth();
  return outdir;
}

/** First KMS import call to last, from the emulator's own records. */
function importSpan(calls) {
  const imports = calls.filter((c) => c.operation === 'GetParametersForImport' || c.operation === 'ImportKeyMaterial');
  if (!imports.length) return NaN;
  return Math.max(...imports.map((c) => c.endedAt)) - Math.min(...imports.map((c) => c.startedAt));
}

async function run(plan) {
  wrappingPool.install(plan.pairs);
  const { ExternalKey, ExternalKeyReplica, KeyMaterial, PrimaryKey } = require('../lib');
  const { LocalCloud } = require('../testing/harness');
  // The machinery's own speed, without KMS's request quotas (those are quotas.js's subject).
  const cloud = await LocalCloud.start({ region: REGION, accountId: ACCOUNT, emulator: { quotas: { enabled: false } } });
  const dirs = [];
  const delay = { ms: 0 };
  const proxy = await listenLocal(forwardingServer(cloud.secretsEndpoint, { before: () => sleep(delay.ms) }));
  const lambdaEnv = { AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.url };
  const newSecret = (name) => cloud.createSecret(`${name}-${randomBytes(4).toString('hex')}`, { secretString: randomBytes(32).toString('base64') });
  try {
    cloud.kms.setLatency(plan.latencyMs);
    delay.ms = plan.latencyMs;

    // A first deployment warms what is not under test (the file cache of a new cloud assembly,
    // the harness's clients).
    {
      const arn = await newSecret('scale/warmup');
      const outdir = synth((app) => {
        const stack = new Stack(app, 'ScaleWarmup', { env: { account: ACCOUNT, region: REGION } });
        new ExternalKey(stack, 'Key', { material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Material', arn)) });
      });
      dirs.push(outdir);
      await cloud.deploy(outdir, 'ScaleWarmup', { lambdaEnv });
    }

    async function deployKeys(n, rep) {
      const arns = await Promise.all(Array.from({ length: n }, (_, i) => newSecret(`scale/${n}/${rep}/${i}`)));
      const name = `ScaleKeys${n}r${rep}`;
      const outdir = synth((app) => {
        const stack = new Stack(app, name, { env: { account: ACCOUNT, region: REGION } });
        arns.forEach((arn, i) => new ExternalKey(stack, `Key${i}`, { material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `Material${i}`, arn)) }));
      });
      dirs.push(outdir);
      cloud.kms.clearCalls();
      const t0 = now();
      const stack = await cloud.deploy(outdir, name, { concurrency: n, lambdaEnv });
      const deployMs = now() - t0;
      const imports = stack.invocations.filter((inv) => inv.event.ResourceType === 'Custom::KmsKeyMaterialImport');
      if (imports.length !== n || imports.some((inv) => inv.answers[0]?.Status !== 'SUCCESS')) throw new Error(`${name}: ${imports.length} imports, not all SUCCESS`);
      const handlerCalls = cloud.kms.calls.filter((c) => c.operation !== 'CreateKey' && c.operation !== 'CreateAlias').length;
      return { deployMs, importSpanMs: importSpan(cloud.kms.calls), invocations: imports.map((inv) => inv.durationMs), kmsCallsPerKey: handlerCalls / n };
    }

    async function deployReplicas(r, rep) {
      const secretArn = await newSecret(`replica/${r}/${rep}`);
      const primaryName = `ScalePrimary${r}r${rep}`;
      const primaryDir = synth((app) => {
        const stack = new Stack(app, primaryName, { env: { account: ACCOUNT, region: REGION } });
        new ExternalKey(stack, 'Key', { multiRegion: true, material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Material', secretArn)) });
      });
      dirs.push(primaryDir);
      const t0 = now();
      const primary = await cloud.deploy(primaryDir, primaryName, { lambdaEnv });
      const primaryMs = now() - t0;
      const primaryArn = primary.resources[primary.logicalIdsOfType('AWS::KMS::Key')[0]].attributes.Arn;
      const names = REPLICA_REGIONS.slice(0, r).map((region) => `ScaleReplica${r}r${rep}${region.replace(/-/g, '')}`);
      const replicaDir = synth((app) => {
        REPLICA_REGIONS.slice(0, r).forEach((region, i) => {
          const stack = new Stack(app, names[i], { env: { account: ACCOUNT, region } });
          new ExternalKeyReplica(stack, 'Replica', {
            primaryKey: PrimaryKey.fromKeyArn(primaryArn),
            material: KeyMaterial.fromSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Material', secretArn)),
          });
        });
      });
      dirs.push(replicaDir);
      cloud.kms.clearCalls();
      const t1 = now();
      // Independent stacks, deployed at the same time (as a pipeline's stages per region do).
      const stacks = await Promise.all(names.map((name) => cloud.deploy(replicaDir, name, { lambdaEnv })));
      const replicasMs = now() - t1;
      const imports = stacks.flatMap((st) => st.invocations.filter((inv) => inv.event.ResourceType === 'Custom::KmsKeyMaterialImport'));
      if (imports.length !== r || imports.some((inv) => inv.answers[0]?.Status !== 'SUCCESS')) throw new Error(`replicas ${r}: ${imports.length} imports, not all SUCCESS`);
      // The replicas really hold the primary's material.
      const primaryMaterial = cloud.kms.inspectKey(primaryArn)?.materials[0]?.sha256;
      const same = stacks.every((st) => cloud.kms.inspectKey(st.resources[st.logicalIdsOfType('AWS::KMS::ReplicaKey')[0]].attributes.Arn)?.materials.some((m) => m.sha256 === primaryMaterial && m.importState === 'IMPORTED'));
      if (!same) throw new Error(`replicas ${r}: a replica does not hold the primary's material`);
      return { primaryMs, replicasMs, importSpanMs: importSpan(cloud.kms.calls), invocations: imports.map((inv) => inv.durationMs) };
    }

    const keys = [];
    for (const n of plan.keyCounts) {
      const runs = [];
      for (let rep = 0; rep < (plan.keyReps?.[n] ?? 1); rep++) runs.push(await deployKeys(n, rep));
      keys.push({
        n, reps: runs.length, deployMs: summary(runs.map((x) => x.deployMs), 0), importSpanMs: Math.round(median(runs.map((x) => x.importSpanMs))),
        invocationMs: summary(runs.flatMap((x) => x.invocations), 0), kmsCallsPerKey: Number(median(runs.map((x) => x.kmsCallsPerKey)).toFixed(2)),
      });
    }

    const regions = [];
    for (const r of plan.regionCounts) {
      const runs = [];
      for (let rep = 0; rep < (plan.regionReps?.[r] ?? 1); rep++) runs.push(await deployReplicas(r, rep));
      regions.push({
        regions: r, reps: runs.length, primaryDeployMs: Math.round(median(runs.map((x) => x.primaryMs))), replicasDeployMs: summary(runs.map((x) => x.replicasMs), 0),
        importSpanMs: Math.round(median(runs.map((x) => x.importSpanMs))), invocationMs: summary(runs.flatMap((x) => x.invocations), 0),
      });
    }
    return { latencyMs: plan.latencyMs, keys, regions };
  } finally {
    proxy.server.closeAllConnections?.();
    proxy.server.close();
    await cloud.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

serveWorker(run);
