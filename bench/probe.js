'use strict';
// Runs the bundled import handler (assets/import-handler/index.js, exactly what Lambda runs)
// in this process, against bench/services.js, and measures each invocation:
// - CPU: process.cpuUsage() around `await handler(event)`. Nothing else runs in this process
//   meanwhile (the emulator, the Secrets Manager and the proxies are another process), so this is the handler's
//   own CPU: decoding and checking the material, wrapping it, the SDK's serialization, signing
//   and HTTP, the logs and the ResponseURL PUT.
// - AWS calls: what the recording proxies saw during the invocation (KMS and Secrets Manager),
//   and from their timestamps the sequential round trips (bench/util.js longestChain).
// Started by bench/run.js with child_process.fork, its environment pointing the handler's SDK at
// the proxies; the plan arrives as an IPC message and the results go back the same way.
const { now, control, checkAnswers, importEvent, longestChain, callShape, summary, median, HANDLER_FILE, serveWorker } = require('./util');

async function run(plan) {
  const ctl = (cmd, args) => control(plan.control, cmd, args);
  const lines = [];
  const realLog = console.log;
  // The handler logs one JSON line per event; keep them (cheaply) instead of printing them.
  console.log = (...args) => { lines.push(args.join(' ')); if (lines.length > 200) lines.shift(); };

  const requireStart = now();
  const { handler } = require(HANDLER_FILE);
  const requireMs = now() - requireStart;
  const context = { getRemainingTimeInMillis: () => 300_000 };

  const pending = [];
  let urls = [];
  async function invoke(cell, requestType = 'Create') {
    if (urls.length === 0) urls = (await ctl('responseUrls', { count: 32 })).urls;
    const responseUrl = urls.shift();
    const event = importEvent({ ...cell, responseUrl, requestType });
    await ctl('clear');
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await handler(event, context);
    const wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const { calls, emulatorCalls } = await ctl('calls', { clear: true });
    pending.push({ responseUrl, what: `${cell.keySpec}/${cell.algorithm} ${requestType}` });
    return {
      wallMs, cpuMs: (cpu.user + cpu.system) / 1000,
      calls: calls.length, kmsCalls: calls.filter((c) => c.service === 'kms').length,
      emulatorCalls: emulatorCalls.length, chain: longestChain(calls), shape: callShape(calls),
    };
  }

  const cells = plan.cells;
  const first = await invoke(cells[0]);

  // Warm-up, then the measured invocations, round-robin over the cells so that machine noise
  // (other processes on this machine) spreads evenly over them.
  for (let i = 0; i < plan.warmup; i++) for (const cell of cells) await invoke(cell);
  const samples = cells.map(() => []);
  for (let r = 0; r < plan.reps; r++) {
    for (const [i, cell] of cells.entries()) samples[i].push(await invoke(cell));
  }
  const perCell = cells.map((cell, i) => ({
    keySpec: cell.keySpec, algorithm: cell.algorithm, wrappingKeySpec: 'RSA_4096',
    cpuMs: summary(samples[i].map((s) => s.cpuMs)),
    wallMs: summary(samples[i].map((s) => s.wallMs)),
    calls: median(samples[i].map((s) => s.calls)),
    kmsCalls: median(samples[i].map((s) => s.kmsCalls)),
    emulatorCalls: median(samples[i].map((s) => s.emulatorCalls)),
  }));

  // Other request types, for completeness: an Update that changes nothing, and a Delete.
  // (A comparison run, plan.cellsOnly, measures the Create cells only.)
  const base = cells[0];
  const otherTypes = {};
  for (const type of plan.cellsOnly ? [] : ['Update', 'Delete']) {
    const s = [];
    for (let r = 0; r < 5; r++) s.push(await invoke(base, type));
    otherTypes[type] = { calls: median(s.map((x) => x.calls)), chain: median(s.map((x) => x.chain)), shape: s[0].shape, cpuMs: summary(s.map((x) => x.cpuMs)) };
  }

  // Injected latency: every KMS call and every Secrets Manager call takes latencyMs more. The
  // wall time shows what runs in parallel; the chain is unambiguous at this latency.
  await ctl('latency', { kms: plan.latencyMs, secretsmanager: plan.latencyMs });
  const latency = [];
  for (const cell of plan.cellsOnly ? [] : plan.defaultCells.map((i) => cells[i])) {
    const s = [];
    for (let r = 0; r < plan.latencyReps; r++) s.push(await invoke(cell));
    latency.push({
      keySpec: cell.keySpec, algorithm: cell.algorithm,
      wallMs: summary(s.map((x) => x.wallMs)), cpuMs: summary(s.map((x) => x.cpuMs)),
      calls: median(s.map((x) => x.calls)), chain: median(s.map((x) => x.chain)), shape: s[s.length - 1].shape,
    });
  }

  await ctl('latency', { kms: 0, secretsmanager: 0 });

  await checkAnswers(plan.control, pending, `; handler log tail: ${lines.slice(-3).join(' | ')}`);

  // The share of the handler's CPU that is the material check and the wrap (node crypto), from
  // the compiled handler modules, called directly.
  const { decodeText, checkMaterial } = require('../lambda/material');
  const { wrapKeyMaterial } = require('../lambda/wrap');
  const wrappingPublicKey = Buffer.from(plan.wrappingPublicKeyDerB64, 'base64');
  const crypto = cells.map((cell) => {
    const iterations = 20;
    const once = () => {
      const material = decodeText(cell.secretString, cell.encoding, 'material');
      checkMaterial(cell.keySpec, material, 'aws', 'material');
      wrapKeyMaterial(material, wrappingPublicKey, cell.algorithm);
      material.fill(0);
    };
    once();
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) once();
    const c = process.cpuUsage(c0);
    return { keySpec: cell.keySpec, algorithm: cell.algorithm, cpuMs: Number(((c.user + c.system) / 1000 / iterations).toFixed(3)) };
  });

  console.log = realLog;
  return {
    requireInProcessMs: Number(requireMs.toFixed(1)),
    first: { wallMs: Number(first.wallMs.toFixed(1)), cpuMs: Number(first.cpuMs.toFixed(1)), calls: first.calls },
    node: process.version, perCell, otherTypes, latency, crypto, invocations: pending.length,
  };
}

serveWorker(run);
