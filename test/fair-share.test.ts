// Fair share: two clients build at once on a farm smaller than their demand; while both have queued work, each holds half the slots.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { ROOT, childEnv, farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-fair-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 4 }] });
t.teardown(() => farm.stop());

// The second client is a second agent (another developer), on its own socket.
const otherAgentDir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-fair-agent-'));
t.teardown(() => {
  try {
    process.kill(Number(readFileSync(path.join(otherAgentDir, 'agent.pid'), 'utf8')), 'SIGTERM');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ESRCH'))) throw err;
  }
  rmSync(otherAgentDir, { recursive: true, force: true });
});
const clients = {
  a: farm.launcherArgs(mount),
  b: [launcherExe(), `--server-addr=${farm.addr}`, `--fs-mount=${mount}`, `--agent-socket=${path.join(otherAgentDir, 'agent.sock')}`],
};

/** A ninja project of `n` fake compiles of `seconds` each through the given launcher. */
function project(name: string, launcher: readonly string[], n: number, seconds: number): string {
  const dir = path.join(mount, name);
  mkdirSync(dir);
  const edges = Array.from({ length: n }, (_, i) => {
    writeFileSync(path.join(dir, `${name}${i}.c`), '');
    return `build ${name}${i}.o: cc ${name}${i}.c`;
  });
  writeFileSync(path.join(dir, 'build.ninja'), [`rule cc`, `  command = ${launcher.join(' ')} --compiler -- ${FAKE_CC} ${seconds} -c $in -o $out`, ...edges, ''].join('\n'));
  return dir;
}

t.test('two clients on a farm of 4 slots, one wanting 24 and the other 8: each holds 50% ± 10% of the slots while both wait', async (t) => {
  // First come, first served would give the first client, with three times the jobs in flight, three quarters.
  const dirs = { a: project('a', clients.a, 60, 0.4), b: project('b', clients.b, 30, 0.4) };
  // Both agents up before the race starts, so neither gets a head start.
  for (const [name, launcher] of Object.entries(clients)) {
    const warm = await execa(launcher[0] ?? '', [...launcher.slice(1), '--compiler', '--', FAKE_CC, '0', '-c', 'x.c'], { cwd: mount, env: childEnv(), reject: false });
    t.equal(warm.exitCode, 0, `client ${name} reaches the farm`);
  }
  const first = execa('ninja', ['-C', dirs.a, '-j24'], { env: childEnv(), reject: false, all: true });
  // The second starts once the first has a queue: it arrives behind it.
  const queuedBy = Date.now() + 20_000;
  while (((await farm.status()).clients.find((c) => c.queued > 0)?.queued ?? 0) < 15 && Date.now() < queuedBy) await new Promise((r) => setTimeout(r, 50));
  const builds = [first, execa('ninja', ['-C', dirs.b, '-j8'], { env: childEnv(), reject: false, all: true })];
  const shares: number[] = [];
  let done = false;
  void Promise.all(builds).then(() => {
    done = true;
  });
  const deadline = Date.now() + 60_000;
  while (!done && Date.now() < deadline) {
    const s = await farm.status();
    const contended = s.clients.filter((c) => c.queued > 0);
    if (contended.length === 2) {
      const [x, y] = contended;
      const running = (x?.running ?? 0) + (y?.running ?? 0);
      if (running > 0) shares.push((x?.running ?? 0) / running);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const results = await Promise.all(builds);
  for (const r of results) t.equal(r.exitCode, 0, 'the build succeeds');
  t.ok(shares.length >= 10, `${shares.length} samples while both clients had queued work`);
  const mean = shares.reduce((a, b) => a + b, 0) / Math.max(1, shares.length);
  t.ok(mean >= 0.4 && mean <= 0.6, `one client held ${(100 * mean).toFixed(1)}% of the running slots on average`);
  if (t.passing() === false) t.comment(farmLogs(farm));
});
