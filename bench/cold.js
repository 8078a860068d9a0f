'use strict';
// One cold start, in a fresh Node process as Lambda would give: how long node took to reach this
// script, how long `require` of the bundled handler takes, then the first invocation (lazy
// initialization: SDK clients, credential and endpoint resolution, the first connections) and a
// second one for comparison. Prints one JSON line. Run by bench/run.js with
//   node bench/cold.js <event1.json> <event2.json>
// in the handler's environment (bench/util.js lambdaEnv).
const bootMs = performance.now();
const fs = require('fs');
const path = require('path');

async function main() {
  const handlerFile = process.env.BENCH_HANDLER_FILE ?? path.join(__dirname, '..', 'assets', 'import-handler', 'index.js');
  const events = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const log = console.log;
  console.log = () => undefined;
  const context = { getRemainingTimeInMillis: () => 300_000 };

  const r0 = performance.now();
  const c0 = process.cpuUsage();
  const { handler } = require(handlerFile);
  const requireMs = performance.now() - r0;
  const requireCpu = process.cpuUsage(c0);

  const invocations = [];
  for (const event of events) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await handler(event, context);
    const cpu = process.cpuUsage(cpu0);
    invocations.push({ wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  console.log = log;
  console.log(JSON.stringify({ bootMs, requireMs, requireCpuMs: (requireCpu.user + requireCpu.system) / 1000, invocations }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
