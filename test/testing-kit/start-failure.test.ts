/**
 * A LocalCloud that cannot start stops what it already started: no server stays listening, so a
 * consumer's jest run ends instead of hanging on open handles.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

test('when one server fails to start, the others are stopped again and the process exits on its own', () => {
  // In a child process, so that its open handles (or their absence) decide whether it exits. The
  // KMS emulator is given a port that is already taken; the Secrets Manager and the ResponseURL
  // server start fine, and must be closed again.
  const script = `
    const net = require('net');
    const { LocalCloud } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'testing', 'harness'))});
    const busy = net.createServer().listen(0, '127.0.0.1', async () => {
      const port = busy.address().port;
      const listening = [];
      const listen = net.Server.prototype.listen;
      net.Server.prototype.listen = function (...args) { listening.push(this); return listen.apply(this, args); };
      try {
        await LocalCloud.start({ emulator: { port } });
        console.log('STARTED');
      } catch (e) {
        console.log('FAILED ' + e.code);
      }
      busy.close();
      console.log('OPEN ' + listening.filter((s) => s.listening).length + ' of ' + listening.length);
    });
  `;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect({ timedOut: run.error !== undefined, status: run.status }).toEqual({ timedOut: false, status: 0 });
  expect(run.stdout.trim().split('\n')).toEqual(['FAILED EADDRINUSE', 'OPEN 0 of 4']);
});

