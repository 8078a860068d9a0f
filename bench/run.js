#!/usr/bin/env node
'use strict';
// `npm run bench` (after `npm run build`): the performance of cdk-kms-byok, each figure measured
// in this one run beside its comparison, printed as tables and written to bench/results.json.
//
// Processes (so that what is timed is only what is meant):
//   run.js       this orchestrator; prints and writes the results
//   services.js  KMS emulator + the kit's Secrets Manager + ResponseURL server + recording proxies
//   lambda-node.js  the Node.js of the function's Lambda runtime, for the handler's figures
//   probe.js     the bundled handler in-process: CPU, AWS calls, round trips, latency
//   regions.js   one warm handler process per region (handler-worker.js): replicas at once
//   cold.js      a fresh process per cold start: require time, first invocation
//   manual-flow.sh  the AWS CLI + openssl procedure against the same emulator
//   synth.js     synth time of N ExternalKeys vs N kms.Key
//   scale.js     LocalCloud deployments: N keys at once, R replica regions in parallel (no quotas)
//   quotas.js    LocalCloud deployments under KMS's default request quotas, against the floor
//                4·(N−1) s; BENCH_ONLY=quotas runs only this part (BENCH_QUOTA_KEYS=1,10,50 to
//                choose the stack sizes) and merges it into bench/results.json
//                BENCH_ONLY=cold runs only the asset size and cold-start rows of the default handler
//                (with BENCH_BASELINE_HANDLER_DIR: of a baseline build too, interleaved) and merges them
// Everything listens on 127.0.0.1 only; every loop is bounded in count and every child in time.
const { fork, spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { now, median, summary, control, checkAnswers, importEvent, lambdaEnv, longestChain, callShape, tail, REPLICA_REGIONS } = require('./util');
const { generatePairs } = require('./wrapping-pool');
const { lambdaNode } = require('./lambda-node');
const { measureRegions } = require('./regions');
const { checkImportCombination, defaultWrapping, IMPORTABLE_KEY_SPECS } = require('../lib/private/import-rules');

const ROOT = path.join(__dirname, '..');
// BENCH_HANDLER_DIR measures another build of the handler asset (e.g. a proposed change) in the
// handler and cold-start sections; synth and the harness always use the library's own asset.
// BENCH_BASELINE_HANDLER_DIR: a second build (e.g. of an earlier commit) whose Create cells are
// measured in the same run, for before/after figures.
const SOURCE_ASSET_DIR = path.resolve(process.env.BENCH_HANDLER_DIR ?? path.join(ROOT, 'assets', 'import-handler'));
const BASELINE_SOURCE_DIR = process.env.BENCH_BASELINE_HANDLER_DIR ? path.resolve(process.env.BENCH_BASELINE_HANDLER_DIR) : undefined;
const SNAPSHOT_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-handler-'));
const ASSET_DIR = path.join(SNAPSHOT_DIR, 'import-handler');
const BASELINE_DIR = path.join(SNAPSHOT_DIR, 'baseline-handler');
const RESULTS_FILE = path.join(__dirname, 'results.json');
const QUICK = process.env.BENCH_QUICK === '1';

const PLAN = {
  specs: ['SYMMETRIC_DEFAULT', 'HMAC_512', 'RSA_4096', 'ECC_NIST_P521'],
  algorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'],
  reps: QUICK ? 5 : 15,
  warmup: 2,
  latencyMs: 50,
  latencyReps: QUICK ? 2 : 5,
  coldStarts: QUICK ? 3 : 11,
  manualRuns: QUICK ? 1 : 3,
  synthSizes: [1, 10, 100],
  synthReps: QUICK ? { 1: 1, 10: 1, 100: 1 } : { 1: 7, 10: 7, 100: 5 },
  coldSynthReps: QUICK ? 1 : 3,
  keyCounts: [1, 10, 50],
  keyReps: QUICK ? { 1: 1, 10: 1, 50: 1 } : { 1: 3, 10: 2, 50: 1 },
  regionCounts: [1, 3, 10],
  regionReps: QUICK ? 2 : 5,
  regionWarmup: QUICK ? 5 : 20,
  replicaStackReps: QUICK ? { 1: 1, 3: 1, 10: 1 } : { 1: 3, 3: 2, 10: 2 },
  quotaKeyCounts: process.env.BENCH_QUOTA_KEYS ? process.env.BENCH_QUOTA_KEYS.split(',').map(Number) : [1, 10, 50, 150],
  quotaAccounts: { count: process.env.BENCH_QUOTA_ACCOUNTS ? Number(process.env.BENCH_QUOTA_ACCOUNTS) : 10, keysPerAccount: 5 },
};
/** Time limits per stage (ms): a stage over its limit is stopped and the bench fails. */
const LIMITS = {
  services: 60_000, probe: 90_000, cold: 5_000, manual: 60_000, synth: 120_000, coldSynth: 30_000, scale: 180_000,
  // Twice the quota floors, plus start-up.
  quotas: 2 * 4_000 * [...PLAN.quotaKeyCounts, PLAN.quotaAccounts.keysPerAccount].reduce((a, n) => a + Math.max(0, n - 1), 0) + 300_000,
};
const GOALS = { roundTrips: 2, apiCalls: 4, handlerCpuMs: 5, coldRequireMs: 100, synthRatio: 1.5, regionFlatness: 1.5 };

const log = (...args) => process.stderr.write(`[bench ${((now() - T0) / 1000).toFixed(1)}s] ${args.join(' ')}\n`);
const T0 = now();

/**
 * Copies the handler asset aside, so that a concurrent `npm run build` (which replaces
 * assets/import-handler) cannot change it under the handler and cold-start measurements.
 */
function snapshotAsset(source = SOURCE_ASSET_DIR, target = ASSET_DIR) {
  for (let attempt = 1; ; attempt++) {
    try {
      fs.rmSync(target, { recursive: true, force: true });
      fs.cpSync(source, target, { recursive: true });
      if (!fs.existsSync(path.join(target, 'index.js'))) throw new Error(`no index.js in ${source}; run npm run build`);
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      require('child_process').execFileSync('sleep', ['1']);
    }
  }
}

/**
 * Runs a worker; once more if it failed because assets/import-handler was being rebuilt at that
 * moment (another `npm run build` in the same working tree).
 */
async function runWorkerRetrying(file, plan, options) {
  try {
    return await runWorker(file, plan, options);
  } catch (e) {
    if (!/ENOENT[^\n]*assets[/\\]import-handler/.test(String(e.message))) throw e;
    log(`${file}: the handler asset was being rebuilt meanwhile; running it again`);
    return runWorker(file, plan, options);
  }
}

/** Forks one of the bench's workers, sends it a plan, and waits (bounded) for its result. */
function runWorker(file, plan, { env, timeoutMs, execPath }) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, file), [], { env: env ?? process.env, execPath: execPath ?? process.execPath, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const out = tail(child.stdout);
    const err = tail(child.stderr);
    let settled = false;
    const finish = (fn, value) => { if (!settled) { settled = true; clearTimeout(timer); fn(value); } };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(reject, new Error(`${file} did not finish within ${timeoutMs / 1000} s; stderr: ${err.text.slice(-2000)}`));
    }, timeoutMs);
    child.on('message', (msg) => {
      if (msg.type === 'result') finish(resolve, msg.result);
      if (msg.type === 'error') finish(reject, new Error(`${file}: ${msg.error}`));
    });
    child.on('exit', (code) => finish(reject, new Error(`${file} exited with code ${code}; stderr: ${err.text.slice(-2000)} stdout: ${out.text.slice(-1000)}`)));
    child.send({ type: 'run', plan });
  });
}

async function startServices(pairs) {
  const child = fork(path.join(__dirname, 'services.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const err = tail(child.stderr);
  tail(child.stdout);
  const endpoints = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`services did not start within ${LIMITS.services / 1000} s: ${err.text}`)); }, LIMITS.services);
    child.on('message', (msg) => {
      if (msg.type === 'ready') { clearTimeout(timer); resolve(msg.endpoints); }
      if (msg.type === 'error') { clearTimeout(timer); reject(new Error(`services: ${msg.error}`)); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`services exited with code ${code}: ${err.text}`)); });
    child.send({ type: 'start', pairs });
  });
  child.removeAllListeners('exit');
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 10_000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.send({ type: 'stop' });
  });
  return { endpoints, stop, ctl: (cmd, args) => control(endpoints.control, cmd, args) };
}

/** Material for each benchmarked key spec, as a secret would hold it (the library's default encodings). */
async function makeMaterials() {
  const gen = require('util').promisify(crypto.generateKeyPair);
  const [rsa, ec] = await Promise.all([gen('rsa', { modulusLength: 4096 }), gen('ec', { namedCurve: 'secp521r1' })]);
  return {
    SYMMETRIC_DEFAULT: { secretString: crypto.randomBytes(32).toString('base64'), encoding: 'BASE64' },
    HMAC_512: { secretString: crypto.randomBytes(64).toString('base64'), encoding: 'BASE64' },
    RSA_4096: { secretString: rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), encoding: 'PEM' },
    ECC_NIST_P521: { secretString: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }), encoding: 'PEM' },
  };
}

/**
 * Bytes of a handler asset, raw and as a zip (deflate level 9 per file plus zip headers, as the
 * CDK zips an asset directory), and its native (`.node`) files.
 */
function bundleSize(dir = ASSET_DIR) {
  const files = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else files.push(f);
    }
  })(dir);
  const zipped = (f) => {
    const data = fs.readFileSync(f);
    const name = Buffer.byteLength(path.relative(dir, f));
    return { raw: data.length, zip: zlib.deflateRawSync(data, { level: 9 }).length + 30 + 46 + 2 * name };
  };
  const all = files.map(zipped);
  const index = zipped(path.join(dir, 'index.js'));
  const native = files.filter((f) => f.endsWith('.node'));
  return {
    files: files.length,
    totalBytes: all.reduce((s, x) => s + x.raw, 0),
    totalZipBytes: all.reduce((s, x) => s + x.zip, 0) + 22,
    indexJsBytes: index.raw,
    indexJsZipBytes: index.zip + 22,
    nativeFiles: native.length,
    nativeBytes: native.reduce((s, f) => s + fs.statSync(f).size, 0),
  };
}

function spawnTimed(cmd, args, { env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = tail(child.stdout, 20_000);
    const err = tail(child.stderr);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = now() - t0;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${err.text.slice(-1500)}`));
      resolve({ wallMs, stdout: out.text });
    });
  });
}

/** The quota rows: deployments under KMS's default request quotas (bench/quotas.js). */
async function measureQuotas(pairs) {
  log(`under KMS's default request quotas: ${PLAN.quotaKeyCounts.join(', ')} keys in one stack; ${PLAN.quotaAccounts.count} accounts × ${PLAN.quotaAccounts.keysPerAccount} keys (floor 4·(N−1) s per account and Region)`);
  return runWorkerRetrying('quotas.js', { pairs, keyCounts: PLAN.quotaKeyCounts, accounts: PLAN.quotaAccounts }, { timeoutMs: LIMITS.quotas });
}

/** BENCH_ONLY=quotas: only the quota rows, merged into the existing results file. */
async function mainQuotasOnly() {
  const results = fs.existsSync(RESULTS_FILE) ? JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) : { plan: PLAN };
  const measured = await measureQuotas(await generatePairs({ RSA_4096: 3, RSA_2048: 2 }));
  // Rows of other sizes measured earlier stay (a 150-key row takes ten minutes on its own).
  const same = (a, b) => a.keys === b.keys && a.accounts === b.accounts;
  const kept = (results.quotas?.rows ?? []).filter((row) => !measured.rows.some((m) => same(m, row)));
  const rows = [...kept, ...measured.rows].sort((a, b) => a.accounts - b.accounts || a.keys - b.keys);
  results.quotas = { date: new Date().toISOString(), loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))), rows };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(quotaReport(results.quotas));
  log(`done; quota rows in ${path.relative(ROOT, RESULTS_FILE)}`);
}

/**
 * Cold starts of the default handler: PLAN.coldStarts fresh processes on the function's Node.js,
 * each timing `require` of the bundle, then two Create imports of a Secrets Manager key.
 */
async function measureCold({ ctl, endpoints, node, handlerFile, sym, count = PLAN.coldStarts, raw = false }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'byok-bench-'));
  const cold = [];
  try {
    for (let i = 0; i < count; i++) {
      const { urls } = await ctl('responseUrls', { count: 2 });
      const files = urls.map((responseUrl, j) => {
        const f = path.join(tmp, `event-${i}-${j}.json`);
        fs.writeFileSync(f, JSON.stringify(importEvent({ ...sym, responseUrl })));
        return f;
      });
      const { wallMs, stdout } = await spawnTimed(node.execPath, [path.join(__dirname, 'cold.js'), ...files], { env: { ...lambdaEnv(endpoints), BENCH_HANDLER_FILE: handlerFile }, timeoutMs: LIMITS.cold });
      await checkAnswers(endpoints.control, urls.map((responseUrl, j) => ({ responseUrl, what: `cold start ${i}, import ${j + 1}` })));
      cold.push({ processMs: wallMs, ...JSON.parse(stdout.trim().split('\n').pop()) });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return raw ? cold : summarizeCold(cold, node);
}

function summarizeCold(cold, node) {
  return {
    node: node.version,
    processes: cold.length,
    bootMs: summary(cold.map((c) => c.bootMs), 1),
    requireMs: summary(cold.map((c) => c.requireMs), 1),
    requireCpuMs: summary(cold.map((c) => c.requireCpuMs), 1),
    firstInvocationMs: summary(cold.map((c) => c.invocations[0].wallMs), 1),
    firstInvocationCpuMs: summary(cold.map((c) => c.invocations[0].cpuMs), 1),
    secondInvocationMs: summary(cold.map((c) => c.invocations[1].wallMs), 1),
    secondInvocationCpuMs: summary(cold.map((c) => c.invocations[1].cpuMs), 1),
    processMs: summary(cold.map((c) => c.processMs), 1),
  };
}

/**
 * BENCH_ONLY=cold: the handler asset's size and cold starts of the default handler, for this
 * build and, with BENCH_BASELINE_HANDLER_DIR, for a baseline build measured in the same run
 * (interleaved, so that both see the same load); merged into the existing results file.
 */
async function mainColdOnly() {
  const results = fs.existsSync(RESULTS_FILE) ? JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) : { plan: PLAN };
  snapshotAsset();
  if (BASELINE_SOURCE_DIR) snapshotAsset(BASELINE_SOURCE_DIR, BASELINE_DIR);
  const node = lambdaNode(log);
  log(`cold starts on node ${node.version} (${node.source}): ${PLAN.coldStarts} fresh processes per build`);
  const [pairs, materials] = await Promise.all([generatePairs({ RSA_4096: 1 }), makeMaterials()]);
  const services = await startServices(pairs);
  const builds = [{ label: 'this build', dir: ASSET_DIR, source: SOURCE_ASSET_DIR }, ...(BASELINE_SOURCE_DIR ? [{ label: 'baseline', dir: BASELINE_DIR, source: BASELINE_SOURCE_DIR }] : [])];
  const measured = [];
  try {
    const { keyArns, secretArns } = await services.ctl('setup', {
      keys: [{ keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' }],
      secrets: [{ name: `bench/cold-${crypto.randomBytes(4).toString('hex')}`, secretString: materials.SYMMETRIC_DEFAULT.secretString }],
    });
    const sym = { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', algorithm: 'RSAES_OAEP_SHA_256', keyArn: keyArns[0], secretArn: secretArns[0], ...materials.SYMMETRIC_DEFAULT };
    // Rounds of a few cold starts per build in turn, so that a change of load hits both builds;
    // which build goes first alternates.
    const rounds = 4;
    const samples = builds.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const i of builds.map((_, j) => (round % 2 ? builds.length - 1 - j : j))) {
        const count = Math.ceil(PLAN.coldStarts / rounds);
        samples[i].push(...await measureCold({ ctl: services.ctl, endpoints: services.endpoints, node, handlerFile: path.join(builds[i].dir, 'index.js'), sym, count, raw: true }));
      }
    }
    builds.forEach((b, i) => measured.push({ ...b, cold: summarizeCold(samples[i], node) }));
  } finally {
    await services.stop();
  }
  const [self, base] = measured;
  results.lambdaNode = { runtime: node.runtime, version: node.version, source: node.source };
  results.bundle = { source: path.relative(ROOT, SOURCE_ASSET_DIR) || SOURCE_ASSET_DIR, ...bundleSize(ASSET_DIR) };
  results.cold = { date: new Date().toISOString(), loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))), ...self.cold };
  const pkcs11Dir = path.join(path.dirname(SOURCE_ASSET_DIR), 'import-handler-pkcs11');
  if (fs.existsSync(path.join(pkcs11Dir, 'index.js'))) results.bundlePkcs11 = { source: path.relative(ROOT, pkcs11Dir), ...bundleSize(pkcs11Dir) };
  else delete results.bundlePkcs11;
  if (base) results.coldBaseline = { source: base.source, bundle: bundleSize(BASELINE_DIR), cold: base.cold };
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(coldReport(results));
  log(`done; cold-start rows in ${path.relative(ROOT, RESULTS_FILE)}`);
}

async function main() {
  if (process.env.BENCH_ONLY === 'quotas') return mainQuotasOnly();
  if (process.env.BENCH_ONLY === 'cold') return mainColdOnly();
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))) },
    plan: PLAN,
    goals: GOALS,
  };
  snapshotAsset();
  if (BASELINE_SOURCE_DIR) snapshotAsset(BASELINE_SOURCE_DIR, BASELINE_DIR);
  results.bundle = { source: path.relative(ROOT, SOURCE_ASSET_DIR) || SOURCE_ASSET_DIR, ...bundleSize() };
  const pkcs11Dir = path.join(path.dirname(SOURCE_ASSET_DIR), 'import-handler-pkcs11');
  if (fs.existsSync(path.join(pkcs11Dir, 'index.js'))) results.bundlePkcs11 = { source: path.relative(ROOT, pkcs11Dir), ...bundleSize(pkcs11Dir) };
  const handlerEnv = { BENCH_HANDLER_FILE: path.join(ASSET_DIR, 'index.js') };
  const node = lambdaNode(log);
  results.lambdaNode = { runtime: node.runtime, version: node.version, source: node.source };
  log(`the handler runs on ${node.runtime}: measuring it on node ${node.version} (${node.source})`);

  log('generating wrapping key pairs (emulator) and key material');
  const [pairs, materials] = await Promise.all([generatePairs({ RSA_4096: 3, RSA_2048: 2 }), makeMaterials()]);

  log('starting the KMS emulator, the Secrets Manager and the recording proxies');
  const services = await startServices(pairs);
  const { endpoints, ctl } = services;
  try {
    // One key and one secret per key spec; the cells (spec × wrapping algorithm) share them:
    // importing the same material again into a key is allowed, and is what an update does.
    const specs = PLAN.specs.map((keySpec) => ({ keySpec, keyUsage: IMPORTABLE_KEY_SPECS[keySpec].usages[0], kind: IMPORTABLE_KEY_SPECS[keySpec].kind }));
    const runId = crypto.randomBytes(4).toString('hex');
    const { keyArns, secretArns } = await ctl('setup', {
      // ... and one multi-Region primary key for the replicas.
      keys: [...specs.map((s) => ({ keySpec: s.keySpec, keyUsage: s.keyUsage })), { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT', multiRegion: true }],
      secrets: specs.map((s) => ({ name: `bench/${runId}/${s.keySpec}`, secretString: materials[s.keySpec].secretString })),
    });
    const cells = [];
    const defaultCells = [];
    specs.forEach((s, i) => {
      for (const algorithm of PLAN.algorithms) {
        if (checkImportCombination({ keySpec: s.keySpec, keyUsage: s.keyUsage, wrappingAlgorithm: algorithm, wrappingKeySpec: 'RSA_4096', partition: 'aws' })) continue;
        if (algorithm === defaultWrapping(s.kind).wrappingAlgorithm) defaultCells.push(cells.length);
        cells.push({ keySpec: s.keySpec, keyUsage: s.keyUsage, algorithm, keyArn: keyArns[i], secretArn: secretArns[i], ...materials[s.keySpec] });
      }
    });
    const wrappingPublicKeyDerB64 = crypto.createPublicKey(pairs.RSA_4096[0]).export({ type: 'spki', format: 'der' }).toString('base64');

    log(`handler in-process on node ${node.version}: ${cells.length} cells × ${PLAN.reps} imports, then ${PLAN.latencyMs} ms injected latency`);
    const probePlan = { control: endpoints.control, cells, defaultCells, reps: PLAN.reps, warmup: PLAN.warmup, latencyMs: PLAN.latencyMs, latencyReps: PLAN.latencyReps, wrappingPublicKeyDerB64 };
    const probe = (execPath, handlerFile, cellsOnly) => runWorker('probe.js', { ...probePlan, cellsOnly }, { env: { ...lambdaEnv(endpoints), BENCH_HANDLER_FILE: handlerFile }, execPath, timeoutMs: LIMITS.probe });
    results.handler = await probe(node.execPath, handlerEnv.BENCH_HANDLER_FILE, false);
    // The same Create cells on this machine's node, and for a baseline build, for comparison.
    results.handlerCompared = [];
    const nodes = node.execPath === process.execPath ? [node.execPath] : [node.execPath, process.execPath];
    for (const [label, file] of [['this build', handlerEnv.BENCH_HANDLER_FILE], ...(BASELINE_SOURCE_DIR ? [['baseline', path.join(BASELINE_DIR, 'index.js')]] : [])]) {
      for (const execPath of nodes) {
        if (label === 'this build' && execPath === node.execPath) continue;
        log(`handler Create cells: ${label} on node ${execPath === node.execPath ? node.version : process.version}`);
        const run = await probe(execPath, file, true);
        results.handlerCompared.push({ build: label, source: label === 'baseline' ? BASELINE_SOURCE_DIR : path.relative(ROOT, SOURCE_ASSET_DIR) || SOURCE_ASSET_DIR, node: run.node, perCell: run.perCell });
      }
    }

    log(`replicas: ${PLAN.regionCounts.join(', ')} regions at once, one warm handler process per region, ${PLAN.latencyMs} ms per AWS call`);
    const pending = [];
    results.regions = await measureRegions({
      primary: { ...cells[defaultCells[0]], keyArn: keyArns[specs.length], algorithm: 'RSAES_OAEP_SHA_256' },
      regions: REPLICA_REGIONS, counts: PLAN.regionCounts, reps: PLAN.regionReps, warmup: PLAN.regionWarmup, latencyMs: PLAN.latencyMs,
    }, { ctl, endpoints, execPath: node.execPath, handlerFile: handlerEnv.BENCH_HANDLER_FILE, pending });
    await checkAnswers(endpoints.control, pending);

    log(`cold starts: ${PLAN.coldStarts} fresh processes`);
    results.cold = await measureCold({ ctl, endpoints, node, handlerFile: handlerEnv.BENCH_HANDLER_FILE, sym: cells[defaultCells[0]] });

    const haveCli = ['aws', 'openssl'].every((cmd) => require('child_process').spawnSync('bash', ['-c', `command -v ${cmd}`]).status === 0);
    log(haveCli ? `manual flow (AWS CLI + openssl): ${PLAN.manualRuns} runs` : 'manual flow skipped: the AWS CLI or openssl is not installed');
    const manual = [];
    for (let i = 0; haveCli && i < PLAN.manualRuns; i++) {
      await ctl('clear');
      const { stdout } = await spawnTimed('bash', [path.join(__dirname, 'manual-flow.sh')], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), KMS_ENDPOINT: endpoints.kms },
        timeoutMs: LIMITS.manual,
      });
      const { calls } = await ctl('calls', { clear: true });
      const run = JSON.parse(stdout.trim().split('\n').pop());
      if (run.keyState !== 'Enabled') throw new Error(`manual flow: the key is ${run.keyState}, not Enabled`);
      // describe-key (the script's check, after the timing) is not part of the procedure.
      const procedure = calls.filter((c) => c.operation !== 'DescribeKey');
      manual.push({ ...run, calls: procedure.length, chain: longestChain(procedure), shape: callShape(procedure) });
    }
    const stepNames = Object.keys(manual[0]?.stepsMs ?? {});
    results.manual = !haveCli ? { skipped: 'the AWS CLI or openssl is not installed' } : {
      runs: manual.length,
      totalMs: summary(manual.map((m) => m.totalMs), 0),
      withoutCreateKeyMs: summary(manual.map((m) => m.totalMs - m.stepsMs['create-key']), 0),
      stepsMs: Object.fromEntries(stepNames.map((s) => [s, median(manual.map((m) => m.stepsMs[s]))])),
      cpuMs: summary(manual.map((m) => m.childCpuSeconds * 1000), 0),
      calls: manual[0].calls, chain: manual[0].chain, shape: manual[0].shape,
    };
  } finally {
    await services.stop();
  }

  log(`synth: N = ${PLAN.synthSizes.join(', ')} ExternalKeys vs kms.Key`);
  results.synth = await runWorkerRetrying('synth.js', { sizes: PLAN.synthSizes, reps: PLAN.synthReps }, { timeoutMs: LIMITS.synth });
  const n = Math.max(...PLAN.synthSizes);
  log(`synth in a fresh process (as cdk synth): ${n} ExternalKeys vs kms.Key, ${PLAN.coldSynthReps} each`);
  const coldSynth = { external: [], plain: [] };
  for (let i = 0; i < PLAN.coldSynthReps; i++) {
    for (const kind of i % 2 ? ['plain', 'external'] : ['external', 'plain']) {
      const synthCold = () => spawnTimed(process.execPath, [path.join(__dirname, 'synth.js'), 'cold', kind, String(n)], { env: process.env, timeoutMs: LIMITS.coldSynth });
      const { wallMs, stdout } = await synthCold().catch((e) => {
        if (!/ENOENT[^\n]*assets[/\\]import-handler/.test(String(e.message))) throw e;
        return synthCold();
      });
      coldSynth[kind].push({ processMs: wallMs, ...JSON.parse(stdout.trim().split('\n').pop()) });
    }
  }
  results.synth.cold = {
    n,
    external: { processMs: summary(coldSynth.external.map((x) => x.processMs), 0), synthMs: summary(coldSynth.external.map((x) => x.synthMs), 0) },
    plain: { processMs: summary(coldSynth.plain.map((x) => x.processMs), 0), synthMs: summary(coldSynth.plain.map((x) => x.synthMs), 0) },
  };
  results.synth.cold.ratio = Number((results.synth.cold.external.processMs.median / results.synth.cold.plain.processMs.median).toFixed(2));

  log(`scale through the harness: ${PLAN.keyCounts.join(', ')} keys; ${PLAN.regionCounts.join(', ')} replica regions; ${PLAN.latencyMs} ms per AWS call`);
  results.scale = await runWorkerRetrying('scale.js', { pairs, latencyMs: PLAN.latencyMs, keyCounts: PLAN.keyCounts, keyReps: PLAN.keyReps, regionCounts: PLAN.regionCounts, regionReps: PLAN.replicaStackReps }, { timeoutMs: LIMITS.scale });

  results.quotas = { date: new Date().toISOString(), ...await measureQuotas(pairs) };

  results.totalSeconds = Number(((now() - T0) / 1000).toFixed(1));
  results.machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  results.goalCheck = checkGoals(results);
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(report(results));
  log(`done in ${results.totalSeconds} s; results in ${path.relative(ROOT, RESULTS_FILE)}`);
}

function checkGoals(r) {
  const creates = r.handler.perCell;
  const worstCpu = creates.reduce((a, c) => (c.cpuMs.median > a.cpuMs.median ? c : a));
  const chain = Math.max(...r.handler.latency.map((l) => l.chain));
  const calls = Math.max(...creates.map((c) => c.calls), ...r.handler.latency.map((l) => l.calls));
  const synth100 = r.synth.rows.find((x) => x.n === 100) ?? r.synth.rows.at(-1);
  const regions = r.scale.regions;
  const flat = regions.at(-1).replicasDeployMs.median / regions[0].replicasDeployMs.median;
  const inProcess = r.regions;
  const flatHandler = inProcess.at(-1).wallMs.median / inProcess[0].wallMs.median;
  return [
    { goal: `sequential round trips per import ≤ ${GOALS.roundTrips}`, measured: `${chain} (${r.handler.latency[0].shape})`, met: chain <= GOALS.roundTrips },
    { goal: `AWS API calls per import ≤ ${GOALS.apiCalls}`, measured: `${calls}`, met: calls <= GOALS.apiCalls },
    { goal: `handler CPU per import < ${GOALS.handlerCpuMs} ms, every key type`, measured: `max ${worstCpu.cpuMs.median} ms (${worstCpu.keySpec}/${worstCpu.algorithm}), median of cells ${median(creates.map((c) => c.cpuMs.median)).toFixed(2)} ms, min ${Math.min(...creates.map((c) => c.cpuMs.median))} ms`, met: worstCpu.cpuMs.median < GOALS.handlerCpuMs },
    { goal: `cold require < ${GOALS.coldRequireMs} ms`, measured: `${r.cold.requireMs.median} ms wall (${r.cold.requireCpuMs.median} ms CPU)`, met: r.cold.requireMs.median < GOALS.coldRequireMs },
    {
      goal: `synth ${synth100.n} ExternalKeys ≤ ${GOALS.synthRatio}× ${synth100.n} kms.Key`,
      measured: `${synth100.ratio}× in a warm process (${synth100.externalMs.median} vs ${synth100.plainMs.median} ms); fresh process as cdk synth: ${r.synth.cold.ratio}× (${r.synth.cold.external.processMs.median} vs ${r.synth.cold.plain.processMs.median} ms)`,
      met: synth100.ratio <= GOALS.synthRatio,
    },
    {
      goal: `flat wall time in regions (${inProcess.at(-1).regions} vs ${inProcess[0].regions} region ≤ ${GOALS.regionFlatness}×)`,
      measured: `one warm handler process per region: ${flatHandler.toFixed(2)}× (${inProcess.at(-1).wallMs.median} vs ${inProcess[0].wallMs.median} ms), sequential round trips ${inProcess.map((x) => x.chain).join('/')} for ${inProcess.map((x) => x.regions).join('/')} regions; harness, one cold Node process per region on ${r.machine.cpus} cores: ${flat.toFixed(2)}× (${regions.at(-1).replicasDeployMs.median} vs ${regions[0].replicasDeployMs.median} ms)`,
      met: flatHandler <= GOALS.regionFlatness,
    },
  ];
}

function quotaReport(q) {
  const out = ['\n## Under KMS\'s default request quotas (GetParametersForImport: one every 4 s per account and Region)\n\n'];
  out.push(table(['keys', 'accounts', 'deploy wall ms', 'quota floor ms (4·(N−1) s per account)', 'vs floor', 'failed', 'throttled requests'], q.rows.map((x) => [
    x.keys, x.accounts, x.deployMs, x.quotaFloorMs, x.vsFloor === null ? '—' : `${x.vsFloor}×`, x.failed, x.throttledRequests,
  ])));
  const multi = q.rows.find((x) => x.accounts > 1);
  if (multi) out.push(`\n${multi.accounts} accounts × ${multi.keys / multi.accounts} keys deployed at once: ${multi.deployMs} ms, against ${multi.oneAccountFloorMs} ms as the floor of the same ${multi.keys} keys in one account.\n`);
  return out.join('');
}

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;

/** The asset and cold-start section: this build, and the baseline build when one was measured. */
function coldReport(r) {
  const out = [`\n## Handler asset and cold start (default handler, Secrets Manager material, on node ${r.cold.node ?? r.lambdaNode?.version} as ${r.lambdaNode?.runtime})\n\n`];
  const asset = (b) => `${b.files} files, ${kb(b.totalBytes)} raw, ${kb(b.totalZipBytes)} zipped, ${b.nativeFiles ?? '?'} .node files (${kb(b.nativeBytes)})`;
  const cold = (c) => [
    `${c.requireMs.median} ms (${c.requireMs.p10}–${c.requireMs.p90}), ${c.requireCpuMs.median} ms CPU`,
    `${c.firstInvocationMs.median} ms wall, ${c.firstInvocationCpuMs.median} ms CPU`,
    `${c.secondInvocationMs.median} ms wall, ${c.secondInvocationCpuMs.median} ms CPU`,
    `${c.processMs.median} ms`,
  ];
  const base = r.coldBaseline;
  const labels = ['handler asset', 'index.js (handler + AWS SDK, minified)', `require of the bundle, fresh process (n=${r.cold.processes}; goal < ${GOALS.coldRequireMs} ms)`, 'first invocation (a Create)', 'second invocation', 'whole cold process (spawn → exit, 2 imports)'];
  const column = (b, c) => [asset(b), `${kb(b.indexJsBytes)} raw, ${kb(b.indexJsZipBytes)} zipped`, ...cold(c)];
  const self = column(r.bundle, r.cold);
  if (base) {
    const before = column(base.bundle, base.cold);
    out.push(table(['figure', 'this build', 'baseline'], labels.map((l, i) => [l, self[i], before[i]])));
    out.push(`\nbaseline: ${base.source}\n`);
  } else {
    out.push(table(['figure', 'measured'], labels.map((l, i) => [l, self[i]])));
  }
  if (r.bundlePkcs11) out.push(`\nPKCS#11 handler asset (only for stacks with KeyMaterial.fromPkcs11): ${asset(r.bundlePkcs11)}\n`);
  return out.join('');
}

function report(r) {
  const h = r.handler;
  const out = [];
  out.push(`\ncdk-kms-byok benchmark — ${r.date}, ${r.machine.cpus} × ${r.machine.model}, node ${r.machine.node}, load ${r.machine.loadAverageAtStart.join('/')}; medians (p10–p90) of n runs\n`);

  out.push(`\n## Per import, in the handler (bundled handler in-process on node ${h.node}, as ${r.lambdaNode.runtime}; emulator + Secrets Manager in another process)\n\n`);
  const algos = PLAN.algorithms;
  const cellFor = (spec, a) => h.perCell.find((c) => c.keySpec === spec && c.algorithm === a);
  const cryptoFor = (spec, a) => h.crypto.find((c) => c.keySpec === spec && c.algorithm === a);
  out.push(`Handler CPU per Create (ms, median of ${PLAN.reps}; in brackets: of which material check + wrap), RSA_4096 wrapping key:\n\n`);
  out.push(table(['key spec', ...algos], PLAN.specs.map((spec) => [spec, ...algos.map((a) => {
    const c = cellFor(spec, a);
    return c ? `${c.cpuMs.median} (${cryptoFor(spec, a).cpuMs.toFixed(2)})` : '—';
  })])));
  if (r.handlerCompared.length) {
    const runs = [{ build: 'this build', node: h.node, perCell: h.perCell }, ...r.handlerCompared];
    out.push(`\nThe same Create cells, handler CPU ms (median of ${PLAN.reps}), by build and Node.js version:\n\n`);
    out.push(table(['key spec / wrapping', ...runs.map((x) => `${x.build}, node ${x.node}`)], h.perCell.map((c) => [
      `${c.keySpec} / ${c.algorithm}`,
      ...runs.map((x) => x.perCell.find((o) => o.keySpec === c.keySpec && o.algorithm === c.algorithm)?.cpuMs.median ?? '—'),
    ])));
    out.push(table(['', ...runs.map((x) => `${x.build}, node ${x.node}`)], [
      ['max of cells', ...runs.map((x) => Math.max(...x.perCell.map((c) => c.cpuMs.median)))],
      ['median of cells', ...runs.map((x) => median(x.perCell.map((c) => c.cpuMs.median)).toFixed(2))],
    ]).replace(/^\| \|/, '|  |'));
    const base = r.handlerCompared.find((x) => x.build === 'baseline');
    if (base) out.push(`\nbaseline: ${base.source}\n`);
  }
  out.push('\n');
  const sym = h.latency[0];
  const def = h.perCell.find((x) => x.keySpec === sym.keySpec && x.algorithm === sym.algorithm);
  const fixedCpu = h.otherTypes.Delete.cpuMs.median;
  const perCall = h.otherTypes.Update.cpuMs.median - fixedCpu;
  const defCrypto = h.crypto.find((x) => x.keySpec === def.keySpec && x.algorithm === def.algorithm).cpuMs;
  out.push(table(['figure', 'measured', 'comparison'], [
    ['AWS API calls per Create', `${h.perCell[0].calls} (KMS ${h.perCell[0].kmsCalls}, emulator saw ${h.perCell[0].emulatorCalls}; + Secrets Manager ${h.perCell[0].calls - h.perCell[0].kmsCalls})`, `goal ≤ ${GOALS.apiCalls}; every cell: ${[...new Set(h.perCell.map((c) => c.calls))].join(', ')}`],
    ['sequential round trips per Create', `${sym.chain}: ${sym.shape}`, `floor 2 (GetParametersForImport ‖ fetch material → ImportKeyMaterial)`],
    [`wall per Create, ${PLAN.latencyMs} ms per AWS call`, h.latency.map((l) => `${l.keySpec} ${l.wallMs.median} ms`).join('; '), `3 calls one after another ≥ ${3 * PLAN.latencyMs} ms; 2 round trips ≥ ${2 * PLAN.latencyMs} ms`],
    ['wall per Create, no injected latency', `${def.wallMs.median} ms (${def.keySpec}/${def.algorithm})`, 'local emulator and Secrets Manager answer in ~1–10 ms'],
    [`CPU of a Create (${def.keySpec}/${def.algorithm}), decomposed`, `${def.cpuMs.median} ms = answer + logs ${fixedCpu} + check + wrap ${defCrypto.toFixed(2)} + 3 AWS SDK calls ${(def.cpuMs.median - fixedCpu - defCrypto).toFixed(2)} (${((def.cpuMs.median - fixedCpu - defCrypto) / 3).toFixed(2)} each)`, `answer + logs = a Delete; a lone DescribeKey (Update − Delete): ${perCall.toFixed(2)} ms`],
    ['Update with nothing changed', `${h.otherTypes.Update.calls} call (${h.otherTypes.Update.shape}), ${h.otherTypes.Update.cpuMs.median} ms CPU`, 'no re-import'],
    ['Delete (material kept)', `${h.otherTypes.Delete.calls} calls, ${h.otherTypes.Delete.cpuMs.median} ms CPU`, ''],
    ['first invocation in a warm process', `${h.first.wallMs} ms wall, ${h.first.cpuMs} ms CPU`, `later ones: ${h.perCell[0].cpuMs.median} ms CPU`],
  ]));
  out.push(`\nReplicas of one multi-Region key imported at the same moment, one warm handler process per region (as each region's stack has its own function), node ${h.node}, ${PLAN.latencyMs} ms per AWS call, median of ${PLAN.regionReps}:\n\n`);
  out.push(table(['regions', 'wall ms', 'vs 1 region', 'AWS calls', 'sequential round trips, all regions', 'CPU ms: handlers / emulator + Secrets Manager + proxy', `all that CPU ÷ ${r.machine.cpus} cores`], r.regions.map((x) => [
    x.regions, `${x.wallMs.median} (${x.wallMs.p10}–${x.wallMs.p90})`, `${(x.wallMs.median / r.regions[0].wallMs.median).toFixed(2)}×`, x.calls, x.chain,
    `${x.handlerCpuMs} / ${x.servicesCpuMs}`, `${((x.handlerCpuMs + x.servicesCpuMs) / r.machine.cpus).toFixed(0)} ms`,
  ])));

  out.push(coldReport(r));

  out.push('\n## Synth (construct + app.synth(), one stack)\n\n');
  out.push(table(['N', 'ExternalKey ms', 'kms.Key ms', 'ratio', 'template bytes (ext / plain)', 'resources (ext / plain)', 'Lambdas', 'inline policy chars on the handler role (IAM max 10,240)'], r.synth.rows.map((x) => [
    x.n, `${x.externalMs.median} (${x.externalMs.p10}–${x.externalMs.p90})`, `${x.plainMs.median}`, `${x.ratio}×`,
    `${x.external.templateBytes} / ${x.plain.templateBytes}`, `${x.external.resources} / ${x.plain.resources}`, `${x.external.lambdas}`, `${x.external.rolePolicyChars}`,
  ])));
  const rows = r.synth.rows;
  if (rows.length > 1) {
    const per = (k) => ((rows.at(-1)[k].median - rows[0][k].median) / (rows.at(-1).n - rows[0].n)).toFixed(1);
    out.push(`\nMarginal cost per key: ExternalKey ${per('externalMs')} ms, kms.Key ${per('plainMs')} ms; resources of ${rows.at(-1).n} ExternalKeys: ${JSON.stringify(rows.at(-1).external.byType)}\n`);
  }
  const nv = rows.at(-1).withoutValidation;
  if (nv) out.push(`\nWithout the CDK's built-in CloudFormation validation (CDK_VALIDATION=false, same process, N=${rows.at(-1).n}): ExternalKey ${nv.externalMs.median} ms, kms.Key ${nv.plainMs.median} ms, ${nv.ratio}×; template bytes per key: ${(rows.at(-1).external.templateBytes / rows.at(-1).n).toFixed(0)} vs ${(rows.at(-1).plain.templateBytes / rows.at(-1).n).toFixed(0)} (${(rows.at(-1).external.templateBytes / rows.at(-1).plain.templateBytes).toFixed(1)}×)\n`);
  const cs = r.synth.cold;
  out.push(`\nIn a fresh process, as \`cdk synth\` runs an app (node start → template written, n=${cs.external.processMs.n}): ${cs.n} ExternalKeys ${cs.external.processMs.median} ms (synth ${cs.external.synthMs.median}), ${cs.n} kms.Key ${cs.plain.processMs.median} ms (synth ${cs.plain.synthMs.median}): ${cs.ratio}×\n`);

  const s = r.scale;
  out.push(`\n## Scale through the harness (${s.latencyMs} ms per AWS call; every invocation a fresh Node process on this ${r.machine.cpus}-core machine)\n\n`);
  out.push(table(['keys in one stack', 'deploy wall ms', 'KMS import span ms', 'per invocation ms (cold process)', 'handler KMS calls per key', 'runs'], s.keys.map((k) => [k.n, k.deployMs.median, k.importSpanMs, `${k.invocationMs.median} (${k.invocationMs.p10}–${k.invocationMs.p90})`, k.kmsCallsPerKey, k.reps])));
  out.push('\n');
  out.push(table(['replica regions (one stack each)', 'replica stacks deploy wall ms', 'vs 1 region', 'KMS import span ms', 'per invocation ms (cold process)', 'primary stack ms', 'runs'], s.regions.map((x) => [x.regions, x.replicasDeployMs.median, `${(x.replicasDeployMs.median / s.regions[0].replicasDeployMs.median).toFixed(2)}×`, x.importSpanMs, `${x.invocationMs.median} (${x.invocationMs.p10}–${x.invocationMs.p90})`, x.primaryDeployMs, x.reps])));

  out.push(quotaReport(r.quotas));

  const m = r.manual;
  const c = r.cold;
  if (m.skipped) {
    out.push(`\n## Versus the manual flow: skipped (${m.skipped})\n`);
  } else {
    out.push('\n## Versus the manual flow (bench/manual-flow.sh: AWS CLI + openssl, same emulator, SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_256/RSA_4096, no injected latency)\n\n');
    const symCell = h.perCell.find((x) => x.keySpec === 'SYMMETRIC_DEFAULT' && x.algorithm === 'RSAES_OAEP_SHA_256');
    out.push(table(['', 'manual flow', 'cdk-kms-byok handler'], [
      ['wall, key creation to imported', `${m.totalMs.median} ms`, `harness deploy of 1 key (CreateKey + cold handler, ${s.latencyMs} ms/call): ${s.keys[0].deployMs.median} ms`],
      ['wall, import only', `${m.withoutCreateKeyMs.median} ms`, `cold process ${c.processMs.median} ms (2 imports); warm import ${symCell.wallMs.median} ms`],
      ['CPU', `${m.cpuMs.median} ms (all processes)`, `warm ${symCell.cpuMs.median} ms; cold: ${c.requireCpuMs.median} require + ${c.firstInvocationCpuMs.median} first invocation`],
      ['AWS API calls (sequential)', `${m.calls} (${m.chain}): ${m.shape}`, `${h.perCell[0].calls} (${sym.chain}): ${sym.shape}`],
      ['steps (ms)', Object.entries(m.stepsMs).map(([k, v]) => `${k} ${v}`).join(', '), ''],
    ]));
  }

  out.push('\n## Goals (docs/decisions/0008)\n\n');
  out.push(table(['goal', 'measured', 'met'], r.goalCheck.map((g) => [g.goal, g.measured, g.met ? 'yes' : '**no**'])));
  out.push(`\nTotal bench time ${r.totalSeconds} s; load average ${r.machine.loadAverageAtStart.join('/')} at start, ${r.machine.loadAverageAtEnd.join('/')} at end.\n`);
  return out.join('');
}

main().then(
  () => fs.rmSync(SNAPSHOT_DIR, { recursive: true, force: true }),
  (e) => {
    fs.rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
    log(`FAILED: ${e.stack ?? e}`);
    process.exit(1);
  },
);
