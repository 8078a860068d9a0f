import { spawn } from 'child_process';

/** One invocation of a bundled Lambda handler in a fresh Node process, as Lambda would run it. */
export interface Invocation {
  readonly exitCode: number | null;
  /** Everything the function printed: its "CloudWatch logs". */
  readonly logs: string;
  /** When the invocation started (ms since the epoch) and how long it took. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

// The smallest Lambda runtime that matters here: the event on stdin, a context whose
// getRemainingTimeInMillis counts down from the function's timeout, and a hard stop at the timeout.
// An optional clock offset lets the function run "at" the KMS emulator's (test-controlled) time.
const RUNTIME = `
const [file, timeoutMs, offsetMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] || 0)];
if (offsetMs) {
  const RealDate = Date;
  global.Date = class extends RealDate {
    constructor(...args) { super(...(args.length ? args : [RealDate.now() + offsetMs])); }
    static now() { return RealDate.now() + offsetMs; }
  };
}
let input = '';
process.stdin.on('data', (d) => { input += d; }).on('end', async () => {
  const deadline = Date.now() + timeoutMs;
  const kill = setTimeout(() => { console.log('Task timed out after ' + (timeoutMs / 1000) + ' seconds'); process.exit(124); }, timeoutMs);
  try {
    const handler = require(file).handler;
    await handler(JSON.parse(input), { getRemainingTimeInMillis: () => deadline - Date.now(), functionName: 'local', awsRequestId: 'local' });
    clearTimeout(kill);
    process.exit(0);
  } catch (e) {
    console.log(JSON.stringify({ errorType: e && e.name, errorMessage: e && e.message }));
    process.exit(1);
  }
});`;

export function invokeHandler(handlerFile: string, event: unknown, opts: { env: Record<string, string>; timeoutMs: number; clockOffsetMs?: number }): Promise<Invocation> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', RUNTIME, handlerFile, String(opts.timeoutMs), String(opts.clockOffsetMs ?? 0)], {
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (d) => { logs += d; });
    child.stderr.on('data', (d) => { logs += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code, logs, startedAt: started, durationMs: Date.now() - started, timedOut: code === 124 }));
    child.stdin.end(JSON.stringify(event));
  });
}
