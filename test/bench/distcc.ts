// Debian's distcc as the benchmark's peer: distccd on loopback with N slots, and the client's environment for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { whichSync } from '../../src/worker/capabilities.js';

export interface Distcc {
  /** Environment for distcc clients: DISTCC_HOSTS naming this daemon, a private DISTCC_DIR. */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

/** Why distcc cannot be benchmarked here, or undefined. */
export function distccUnavailable(): string | undefined {
  if (whichSync('distcc') === undefined || whichSync('distccd') === undefined) return 'distcc is not installed (apt-get install distcc)';
  return undefined;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** distccd in the foreground (so its pid is ours to stop), on 127.0.0.1, with `slots` jobs. */
export async function startDistcc(slots: number): Promise<Distcc> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-bench-distcc-'));
  chmodSync(dir, 0o777); // distccd started as root runs as the user distccd: its log must be writable by it
  const port = await freePort();
  const daemon: ChildProcess = spawn('distccd', [
    '--daemon', '--no-detach', '--allow', '127.0.0.1', '--listen', '127.0.0.1', '--port', String(port), '--jobs', String(slots),
    '--log-file', path.join(dir, 'distccd.log'), '--enable-tcp-insecure',
  ], { stdio: 'ignore' });
  // Ready when the port answers.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const c = net.createConnection(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (up) break;
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`distccd did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const distccDir = path.join(dir, 'client');
  mkdirSync(distccDir);
  return {
    env: { DISTCC_HOSTS: `127.0.0.1:${port}/${slots}`, DISTCC_DIR: distccDir, DISTCC_FALLBACK: '1' },
    async stop() {
      if (daemon.exitCode === null && daemon.signalCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
