'use strict';
// One warm import handler, as one region's Lambda: loads the bundled handler
// (BENCH_HANDLER_FILE) and runs each event it is sent over IPC, answering with the invocation's
// wall and CPU time. Started by bench/regions.js, one per region, with that region's environment.
const { now, HANDLER_FILE } = require('./util');

const lines = [];
console.log = (...args) => { lines.push(args.join(' ')); if (lines.length > 20) lines.shift(); };
const { handler } = require(HANDLER_FILE);
const context = { getRemainingTimeInMillis: () => 300_000 };

process.on('message', async (msg) => {
  if (msg.type === 'exit') process.exit(0);
  if (msg.type !== 'invoke') return;
  try {
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await handler(msg.event, context);
    const wallMs = now() - t0;
    const cpu = process.cpuUsage(cpu0);
    process.send({ type: 'done', id: msg.id, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 });
  } catch (e) {
    process.send({ type: 'done', id: msg.id, error: `${e?.stack ?? e}; log tail: ${lines.slice(-2).join(' | ')}` });
  }
});
process.send({ type: 'ready' });
