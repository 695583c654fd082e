// `distbuild --demo`: a server and two workers on loopback build the sample project, then it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { errnoCode } from '../common/errno.js';
import { fetchStatus } from '../cli/status-command.js';
import { formatStatus } from '../cli/format-status.js';
import type { Settings } from '../config/settings.js';
import { whichSync } from '../worker/capabilities.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'distbuild.cjs');
const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'sample-project');

function say(text: string): void {
  process.stdout.write(process.stdout.isTTY ? `\x1b[1mdemo:\x1b[0m ${text}\n` : `demo: ${text}\n`);
}

/** Resolves with the first line of the child's output matching `re`. */
function lineOf(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onExit = (code: number | null): void => reject(new Error(`a farm process exited early (code ${code})`));
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      const hit = text.split('\n').find((l) => re.test(l));
      if (hit === undefined) return;
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      resolve(hit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function runDemo(settings: Settings): Promise<number> {
  for (const tool of ['cmake', 'c++', 'cc']) {
    if (whichSync(tool) === undefined) {
      process.stderr.write(`distbuild: the demo needs ${tool}; install it (Debian: apt-get install cmake g++ ninja-build)\n`);
      return 1;
    }
  }
  const generator = whichSync('ninja') !== undefined ? 'Ninja' : 'Unix Makefiles';
  const top = mkdtempSync(path.join(os.tmpdir(), 'distbuild-demo-'));
  const mount = path.join(top, 'shared');
  const src = path.join(mount, 'sample');
  const build = path.join(mount, 'build');
  const agentSocket = path.join(top, 'agent', 'agent.sock');
  cpSync(SAMPLE, src, { recursive: true });
  const children: ChildProcess[] = [];
  const start = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (c: Buffer) => process.stderr.write(c));
    children.push(child);
    return child;
  };
  try {
    say(`the shared mount is ${mount} (a temporary folder standing in for CephFS or NFS)`);
    const quiet = `--log-level=${settings.logLevel === 'info' ? 'warn' : settings.logLevel}`;
    const server = start(['--server', '--listen=127.0.0.1:0', quiet]);
    const port = Number(/:(\d+)$/.exec(await lineOf(server, /listening on/))?.[1]);
    const addr = `127.0.0.1:${port}`;
    say(`server listening on ${addr}`);
    for (const name of ['worker-1', 'worker-2']) {
      const w = start(['--worker', `--server-addr=${addr}`, `--fs-mount=${mount}`, '--max-jobs=2', `--name=${name}`, '--log-level=info',
        // The demo runs as whoever started it; root is refused unless allowed.
        ...(process.getuid?.() === 0 ? ['--allow-root'] : [])]);
      w.stderr?.removeAllListeners('data');
      w.stderr?.on('data', (c: Buffer) => {
        if (settings.logLevel !== 'info') process.stderr.write(c);
      });
      await lineOf(w, /registered with/);
      say(`${name} registered (2 slots, links too)`);
    }

    say(`configuring the sample project with ${generator} and cmake/DistBuild.cmake`);
    await execa('cmake', [
      '-S', src, '-B', build, '-G', generator, `-DCMAKE_PROJECT_INCLUDE=${path.join(ROOT, 'cmake', 'DistBuild.cmake')}`,
      // bin/distbuild: the module runs the native client built next to it (or the Node launcher where there is none).
      `-DDISTBUILD_EXECUTABLE=${path.join(ROOT, 'bin', 'distbuild')}`, `-DDISTBUILD_SERVER_ADDR=${addr}`, `-DDISTBUILD_FS_MOUNT=${mount}`,
      '-DDISTBUILD_VERBOSE=ON', `-DDISTBUILD_EXTRA_ARGS=--agent-socket=${agentSocket}`,
    ], { stdio: 'pipe' });
    say('building; each [remote WORKER TIME] line says where a compile or link ran');
    const started = Date.now();
    const result = await execa(generator === 'Ninja' ? 'ninja' : 'make', ['-C', build, '-j4'], { all: true, reject: false });
    for (const line of result.all.split('\n')) if (/^\[(remote|local)/.test(line)) process.stdout.write(`  ${line.replace(`${mount}/`, '')}\n`);
    if (result.exitCode !== 0) {
      process.stdout.write(result.all);
      say('the build failed');
      return 1;
    }
    say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${formatStatus(await fetchStatus(addr, 5000, settings.tokens[0])).trimEnd().replace(/^/gm, '  ')}\n`);
    for (const exe of ['sample-calc', 'sample-report']) {
      const run = await execa(path.join(build, exe), { reject: false });
      say(`./${exe} → ${run.stdout.split('\n').at(-1) ?? ''} (exit ${run.exitCode})`);
      if (run.exitCode !== 0) return 1;
    }
    say('done: every compile and link ran on a worker, in place on the shared mount');
    return 0;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    const agentPid = path.join(path.dirname(agentSocket), 'agent.pid');
    if (existsSync(agentPid)) {
      try {
        process.kill(Number(readFileSync(agentPid, 'utf8')), 'SIGTERM');
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw err; // the agent had already exited
      }
    }
    rmSync(top, { recursive: true, force: true });
  }
}
