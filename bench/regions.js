'use strict';
// Replicas of one multi-Region key, imported at the same moment in 1, 3 and 10 regions. As in
// AWS, where each replica stack has its own import function in its own region, every region has
// its own warm handler process (bench/handler-worker.js, on the Lambda runtime's Node.js) with
// that region's environment; the orchestrator sends each its CloudFormation event at once and
// times until the last has answered. Each process first imports `warmup` times on its own (no
// injected latency), so that, as in the per-import figures, the handler's code is compiled and
// its SDK clients exist: what is timed is the imports, not V8 warming up (the cold-start section
// measures that). The handlers call the KMS emulator directly, not through the recording proxy
// (whose CPU would share the emulator's thread): KMS calls are counted from the emulator's own
// record, Secrets Manager calls (and their injected latency) still go through the proxy.
const { fork } = require('child_process');
const path = require('path');
const { now, median, summary, importEvent, lambdaEnv, longestChain } = require('./util');

function startWorker(region, { endpoints, execPath, handlerFile }) {
  const child = fork(path.join(__dirname, 'handler-worker.js'), [], {
    execPath, env: { ...lambdaEnv({ ...endpoints, kms: endpoints.kmsDirect }, region), BENCH_HANDLER_FILE: handlerFile }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
  const waiting = new Map();
  let nextId = 0;
  child.on('message', (msg) => {
    const w = waiting.get(msg.id);
    if (msg.type !== 'done' || !w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(`handler in ${region}: ${msg.error}`));
    else w.resolve(msg);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`handler process for ${region} exited with ${code}: ${stderr}`));
    waiting.clear();
  });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (msg) => (msg.type === 'ready' ? resolve() : reject(new Error(`unexpected ${msg.type}`))));
    child.once('exit', (code) => reject(new Error(`handler process for ${region} exited with ${code}: ${stderr}`)));
  });
  return {
    ready,
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ type: 'invoke', id, event });
      });
    },
    stop() { if (child.connected) child.send({ type: 'exit' }); setTimeout(() => child.kill('SIGKILL'), 2000).unref(); },
  };
}

/**
 * plan: { counts, reps, warmup, latencyMs, primary (a cell of the primary key), regions (replica regions,
 * at least max(counts)) }. Returns a row per count, and the calls the answers were checked against.
 */
async function measureRegions(plan, { ctl, endpoints, execPath, handlerFile, pending }) {
  const primaryRegion = plan.primary.keyArn.split(':')[3];
  const primaryWorker = startWorker(primaryRegion, { endpoints, execPath, handlerFile });
  const workers = plan.regions.slice(0, Math.max(...plan.counts)).map((region) => startWorker(region, { endpoints, execPath, handlerFile }));
  try {
    await Promise.all([primaryWorker.ready, ...workers.map((w) => w.ready)]);
    await ctl('latency', { kms: 0, secretsmanager: 0 });
    const [primaryUrl] = (await ctl('responseUrls', { count: 1 })).urls;
    await primaryWorker.invoke(importEvent({ ...plan.primary, responseUrl: primaryUrl }));
    pending.push({ responseUrl: primaryUrl, what: 'multi-Region primary import' });
    const { replicaArns } = await ctl('replicate', { primaryKeyArn: plan.primary.keyArn, regions: plan.regions.slice(0, workers.length) });
    const replicaEvent = (i, responseUrl) => importEvent({ ...plan.primary, keyArn: replicaArns[i], replica: true, responseUrl });
    await Promise.all(workers.map(async (w, i) => {
      const { urls } = await ctl('responseUrls', { count: plan.warmup });
      for (const responseUrl of urls) {
        await w.invoke(replicaEvent(i, responseUrl));
        pending.push({ responseUrl, what: `replica warm-up in ${plan.regions[i]}` });
      }
    }));
    await ctl('latency', { kms: plan.latencyMs, secretsmanager: plan.latencyMs });
    const rows = [];
    for (const count of plan.counts) {
      const rounds = [];
      for (let r = 0; r < plan.reps; r++) {
        const { urls } = await ctl('responseUrls', { count });
        await ctl('clear');
        const cpu0 = await ctl('cpu');
        const t0 = now();
        const done = await Promise.all(workers.slice(0, count).map((w, i) => w.invoke(replicaEvent(i, urls[i]))));
        const wall = now() - t0;
        const cpu1 = await ctl('cpu');
        const { calls, emulatorCallTimes } = await ctl('calls', { clear: true });
        const seen = [...calls, ...emulatorCallTimes];
        urls.forEach((responseUrl) => pending.push({ responseUrl, what: `replica import ×${count}` }));
        rounds.push({
          wall, calls: seen.length, chain: longestChain(seen),
          handlerCpuMs: done.reduce((sum, d) => sum + d.cpuMs, 0), servicesCpuMs: cpu1.servicesMs - cpu0.servicesMs,
        });
      }
      const med = (k) => Number(median(rounds.map((x) => x[k])).toFixed(1));
      rows.push({ regions: count, wallMs: summary(rounds.map((x) => x.wall), 1), calls: rounds[0].calls, chain: med('chain'), handlerCpuMs: med('handlerCpuMs'), servicesCpuMs: med('servicesCpuMs') });
    }
    return rows;
  } finally {
    await ctl('latency', { kms: 0, secretsmanager: 0 }).catch(() => undefined);
    for (const w of [primaryWorker, ...workers]) w.stop();
  }
}

module.exports = { measureRegions };
