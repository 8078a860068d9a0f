import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as net from 'net';

/**
 * moto's server (`python3 -m moto.server`) as the local Secrets Manager. Fails with a clear
 * message when python3 or moto is missing.
 */
export class MotoServer {
  /** Starts moto on a free port of 127.0.0.1, with `accountId` as its default account. */
  public static async start(accountId = '123456789012'): Promise<MotoServer> {
    const check = spawnSync('python3', ['-c', 'import moto.server'], { encoding: 'utf8' });
    if (check.error || check.status !== 0) {
      throw new Error('moto is needed as the local Secrets Manager but `python3 -c "import moto.server"` failed: install it with `pip install "moto[server]"` (python3 must be on PATH)');
    }
    const port = await freePort();
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_ACCOUNT_ID: accountId },
    });
    let stderr = '';
    child.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const endpoint = `http://127.0.0.1:${port}`;
    const started = Date.now();
    while (!(await isListening(port))) {
      if (child.exitCode !== null) throw new Error(`moto server exited with code ${child.exitCode}: ${stderr}`);
      if (Date.now() - started > 30_000) { child.kill(); throw new Error(`moto server did not listen on ${endpoint} within 30 s: ${stderr}`); }
      await new Promise((r) => setTimeout(r, 100));
    }
    return new MotoServer(child, endpoint);
  }

  private constructor(private readonly child: ChildProcess, public readonly endpoint: string) {}

  public async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 5_000); })]);
    clearTimeout(timer);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
