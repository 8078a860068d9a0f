import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

/** The standalone server, `cdk-kms-byok-emulator` (testing/cli.js, after `npm run build`). */
export const CLI = path.join(__dirname, '..', '..', 'testing', 'cli.js');

export interface Server {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly port: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI and resolves once it printed its `listening on` line. */
export function startServer(...args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no 'listening on' line within 15 s; stderr: ${stderr}`)); }, 15_000);
    child.stderr!.on('data', (d) => { stderr += d; });
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, endpoint: m[1], port: Number(m[2]), stdout: () => stdout, stderr: () => stderr, exited });
      }
    });
    void exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`the CLI exited with ${code} before listening; stderr: ${stderr}`)); });
  });
}

export async function stopServer(server: Server, signal: NodeJS.Signals) {
  server.child.kill(signal);
  return server.exited;
}
