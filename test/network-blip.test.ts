// A worker whose connection is cut mid-build, several times, through a TCP proxy: the build succeeds, byte-identical, and the cut worker stops its attempts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { ROOT, farmLogs, launcherExe, startFarm, waitForLine } from './helpers/farm.js';

const SLOW_GCC = path.join(ROOT, 'test', 'fixtures', 'slow-gcc.sh');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'distbuild-blip-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const mount = path.join(tmp, 'mount');
const work = path.join(mount, 'w');
const local = path.join(tmp, 'local');
/** slow-gcc.sh's log, on the mount (an input outside it would make each job local). */
const log = path.join(mount, 'runs.log');
mkdirSync(work, { recursive: true });
mkdirSync(local);
const FILES = Array.from({ length: 24 }, (_, i) => `b${i}.c`);
for (const [i, f] of FILES.entries()) {
  const text = `static int t[] = { ${i}, ${i * 2} };\nint g${i}(int x) { return t[x & 1] + x * ${i + 3}; }\n`;
  writeFileSync(path.join(work, f), text);
  writeFileSync(path.join(local, f), text);
}

/** A TCP proxy to `port` whose connections can be cut at once. */
async function startProxy(port: number): Promise<{ port: number; cut: () => number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    port: address.port,
    cut() {
      const n = sockets.size;
      for (const s of sockets) s.destroy();
      return n;
    },
    close: () => server.close(),
  };
}

interface Run {
  readonly worker: string;
  readonly start: number;
  readonly end: number | undefined;
}

/** The log of slow-gcc.sh: each command run, by the worker that ran it, with its start and end (ms). */
function runs(): Run[] {
  const byPid = new Map<string, { worker: string; start: number; end?: number }>();
  for (const line of (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n')) {
    const [kind, pid = '', worker = '', ns = '0'] = line.split(' ');
    const at = Number(ns) / 1e6;
    if (kind === 'S') byPid.set(pid, { worker, start: at });
    const run = byPid.get(pid);
    if (kind === 'E' && run !== undefined) run.end = at;
  }
  return [...byPid.values()].map((r) => ({ worker: r.worker, start: r.start, end: r.end }));
}

t.test('cutting a worker off three times mid-build: every job built once, byte-identical; the cut attempts stop', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'steady', mount, maxJobs: 2, env: { HOME: path.join(tmp, 'steady') } }] });
  t.teardown(() => farm.stop());
  const proxy = await startProxy(farm.port);
  t.teardown(() => proxy.close());
  // The blipped worker reaches the server only through the proxy.
  const blip = await farm.startWorker({ name: 'blip', mount, maxJobs: 2, env: { HOME: path.join(tmp, 'blip') }, args: [`--server-addr=127.0.0.1:${proxy.port}`] });
  const build = Promise.all(
    FILES.map((f) =>
      execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--verbose', '--no-fallback', '--compiler', '--', SLOW_GCC, log, '0.8', '-O2', '-c', f, '-o', f.replace(/\.c$/, '.o')], {
        cwd: work,
        reject: false,
      }),
    ),
  );
  const cuts: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Cut while the blipped worker runs something, if it gets a job within 3 s: after a cut or two its
    // circuit breaker may bench it (lost sessions count against it, across its reconnections).
    // Running means its command has started (slow-gcc.sh logged it), not only been assigned.
    const deadline = Date.now() + 3000;
    const since = cuts.at(-1) ?? 0;
    while (!runs().some((r) => r.worker === 'blip' && r.end === undefined && r.start > since) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const back = waitForLine(blip, /registered with/, 'the blipped worker');
    cuts.push(Date.now());
    t.ok(proxy.cut() > 0, `cut ${i + 1}: the blipped worker's connection is dropped`);
    await back;
  }
  const results = await build;
  for (const [i, r] of results.entries()) {
    const f = FILES[i] ?? '';
    t.equal(r.exitCode, 0, `${f} built: ${r.stderr.trim()}`);
    const o = f.replace(/\.c$/, '.o');
    await execa('gcc', ['-O2', '-c', f, '-o', o], { cwd: local });
    t.ok(readFileSync(path.join(work, o)).equals(readFileSync(path.join(local, o))), `${o} is byte-identical to a local build`);
  }
  // An attempt of a cut session is killed: none of the blipped worker's commands that were running at a cut goes on to finish.
  const late = runs().filter((r) => r.worker === 'blip' && r.end !== undefined && cuts.some((c) => r.start < c && (r.end ?? 0) > c + 300));
  t.same(late, [], 'no attempt of a cut session ran on after the cut');
  t.ok(runs().some((r) => r.worker === 'blip' && r.end === undefined), 'attempts running at a cut were killed');
  t.comment(`runs: ${runs().length} for ${FILES.length} jobs (blip ${runs().filter((r) => r.worker === 'blip').length}, steady ${runs().filter((r) => r.worker === 'steady').length})`);
  if (t.passing() === false) t.comment(`cuts ${JSON.stringify(cuts)}; blip runs ${JSON.stringify(runs().filter((r) => r.worker === 'blip'))}\n${farmLogs(farm)}`);
});
