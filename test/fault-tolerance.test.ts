// Lost and stalled workers, timeouts, drains and fallback: no build fails or hangs, no result is overwritten.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { ROOT, farmLogs, launcherExe, startFarm, waitForLine, type Farm } from './helpers/farm.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const FAKE_CC_LOG = path.join(ROOT, 'test', 'fixtures', 'fake-cc-log.sh');
const SLOW_AR = path.join(ROOT, 'test', 'fixtures', 'slow-ar');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-faults-'));
const work = path.join(mount, 'w');
mkdirSync(work);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const launch = (farm: Farm, cmd: string[], extra: string[] = []) =>
  execa(launcherExe(), [...farm.launcherArgs(mount, extra).slice(1), '--verbose', '--compiler', '--', ...cmd], { cwd: work, reject: false });

/** Resolves once the farm runs at least `n` jobs. */
async function running(farm: Farm, n: number): Promise<void> {
  for (;;) {
    if ((await farm.status()).running.length >= n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

t.test('a stalled worker loses its job when its lease expires; its late result is discarded harmlessly', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'stalled', mount }], serverArgs: ['--lease-timeout=2s'] });
  t.teardown(() => farm.stop());
  const job = launch(farm, [FAKE_CC, '2', '-c', 'stall.c', '-o', 'stall.o']);
  await running(farm, 1);
  const stalled = farm.workers.get('stalled');
  stalled?.kill('SIGSTOP');
  await farm.startWorker({ name: 'healthy', mount });
  const result = await job;
  t.equal(result.exitCode, 0);
  t.match(result.stderr, /\[remote healthy /, 'the job was reassigned to the healthy worker');
  const published = statSync(path.join(work, 'stall.o'));
  const status = await farm.status();
  t.ok(status.totals.retries >= 1, 'retried after the lease expired');
  const discarded = waitForLine(stalled as NonNullable<typeof stalled>, /discarded the outputs|cancel/, 'the stalled worker');
  stalled?.kill('SIGCONT');
  await Promise.race([discarded, waitForLine(farm.server, /discarded a late result/, 'the server')]);
  const after = statSync(path.join(work, 'stall.o'));
  t.equal(after.ino, published.ino, 'the published object was not replaced');
  t.equal(after.mtimeMs, published.mtimeMs);
  t.equal(readFileSync(path.join(work, 'stall.o'), 'utf8'), 'fake object\n');
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('an archive update retried after a lost lease appends its members once, as a local ar does', async (t) => {
  const dir = path.join(work, 'ar');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'a.c'), 'int a(void) { return 1; }\n');
  writeFileSync(path.join(dir, 'b.c'), 'int b(void) { return 2; }\n');
  await execa('gcc', ['-c', 'a.c', 'b.c'], { cwd: dir });
  await execa('ar', ['qc', 'lib.a', 'a.o'], { cwd: dir });
  copyFileSync(path.join(dir, 'lib.a'), path.join(dir, 'expected.a'));
  await execa('ar', ['q', 'expected.a', 'b.o'], { cwd: dir });
  const farm = await startFarm({ workers: [{ name: 'stalled', mount }], serverArgs: ['--lease-timeout=2s'] });
  t.teardown(() => farm.stop());
  const job = execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--verbose', '--linker', '--', SLOW_AR, 'q', 'lib.a', 'b.o'], { cwd: dir, reject: false });
  await running(farm, 1);
  // The worker stops; its ar goes on (its own process group) and appends, while the lease runs out.
  const stalled = farm.workers.get('stalled');
  stalled?.kill('SIGSTOP');
  await farm.startWorker({ name: 'healthy', mount });
  const result = await job;
  t.equal(result.exitCode, 0, result.stderr);
  t.match(result.stderr, /\[remote healthy /, 'the job was given to the healthy worker');
  const discarded = waitForLine(stalled as NonNullable<typeof stalled>, /discarded the outputs|cancel/, 'the stalled worker');
  stalled?.kill('SIGCONT');
  await Promise.race([discarded, waitForLine(farm.server, /discarded a late result/, 'the server')]);
  t.ok(readFileSync(path.join(dir, 'lib.a')).equals(readFileSync(path.join(dir, 'expected.a'))), 'the archive is byte-identical to a local ar q: b.o appended once');
  t.same(readdirSync(dir).filter((f) => f.includes('distbuild')), [], 'no temporary copy is left');
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('each timeout has its own message naming its setting', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'w1', mount }], serverArgs: ['--job-timeout=4s', '--queue-timeout=1s'] });
  t.teardown(() => farm.stop());
  const slow = launch(farm, [FAKE_CC, '30', '-c', 'slow.c', '-o', 'slow.o']);
  await running(farm, 1);
  const queued = await launch(farm, [FAKE_CC, '0', '-c', 'q.c', '-o', 'q.o'], ['--no-fallback']);
  t.equal(queued.exitCode, 1);
  t.match(queued.stderr, /within the queue timeout of 1000 ms \(setting queue_timeout\)/);
  const timedOut = await slow;
  t.equal(timedOut.exitCode, 1);
  t.match(timedOut.stderr, /ran longer than the job timeout of 4000 ms and was killed with its process group \(setting job_timeout/);
  const connect = await execa(launcherExe(), ['--compiler', '--server-addr=127.0.0.1:1', `--fs-mount=${mount}`,
    `--agent-socket=${path.join(mount, 'a2', 'agent.sock')}`, '--connect-timeout=300ms', '--no-fallback', '--', FAKE_CC, '0', '-c', 'c.c', '-o', 'c.o'], { cwd: work, reject: false });
  t.equal(connect.exitCode, 1, '--no-fallback fails fast');
  t.match(connect.stderr, /within the connect timeout of 300 ms \(setting connect_timeout.*fallback is off/);
  const pid = Number(readFileSync(path.join(mount, 'a2', 'agent.pid'), 'utf8'));
  process.kill(pid, 'SIGTERM');
});

t.test('with the server down, 200 launchers run at most nproc local compiles at once', async (t) => {
  const log = path.join(mount, 'concurrency.log');
  const socket = path.join(mount, 'a3', 'agent.sock');
  const launchers = Array.from({ length: 200 }, (_, i) =>
    execa(launcherExe(), ['--compiler', '--server-addr=127.0.0.1:1', `--fs-mount=${mount}`, `--agent-socket=${socket}`,
      '--connect-timeout=2s', '--', FAKE_CC_LOG, log, '0.05', '-c', `f${i}.c`, '-o', `f${i}.o`], { cwd: work, reject: false }));
  const results = await Promise.all(launchers);
  t.ok(results.every((r) => r.exitCode === 0), 'every launcher built locally and succeeded');
  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => {
    const [kind, at] = l.split(' ');
    return { delta: kind === 'S' ? 1 : -1, at: BigInt(at ?? '0') };
  });
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.delta - b.delta));
  let now = 0;
  let peak = 0;
  for (const e of events) {
    now += e.delta;
    peak = Math.max(peak, now);
  }
  t.equal(events.length, 400, 'every compile started and ended');
  t.ok(peak <= os.availableParallelism(), `at most ${os.availableParallelism()} at once (saw ${peak})`);
  t.ok(peak >= 1);
  try {
    process.kill(Number(readFileSync(path.join(mount, 'a3', 'agent.pid'), 'utf8')), 'SIGTERM');
  } catch {
    // the agent may not have started
  }
});

t.test('SIGTERM to a worker drains it: the build succeeds and no job is cut off', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'leaving', mount, maxJobs: 2 }, { name: 'staying', mount, maxJobs: 2 }] });
  t.teardown(() => farm.stop());
  const jobs = Array.from({ length: 8 }, (_, i) => launch(farm, [FAKE_CC, '1', '-c', `d${i}.c`, '-o', `d${i}.o`]));
  await running(farm, 4);
  const leaving = farm.workers.get('leaving');
  const exited = new Promise<number | null>((resolve) => leaving?.once('exit', (code) => resolve(code)));
  leaving?.kill('SIGTERM');
  const results = await Promise.all(jobs);
  for (const r of results) {
    t.equal(r.exitCode, 0);
    t.match(r.stderr, /\[remote /);
  }
  t.equal(await exited, 0, 'the drained worker exited cleanly');
  const status = await farm.status();
  t.equal(status.totals.retries, 0, 'no job was cut off and retried');
  t.equal(status.totals.succeeded, 8);
  t.same(status.workers.map((w) => w.name), ['staying']);
});

t.test('SIGTERM to the server lets in-flight jobs finish, then it exits', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 4 }] });
  t.teardown(() => farm.stop());
  const jobs = Array.from({ length: 4 }, (_, i) => launch(farm, [FAKE_CC, '1', '-c', `s${i}.c`, '-o', `s${i}.o`]));
  await running(farm, 4);
  const exited = new Promise<number | null>((resolve) => farm.server.once('exit', (code) => resolve(code)));
  farm.server.kill('SIGTERM');
  for (const r of await Promise.all(jobs)) {
    t.equal(r.exitCode, 0);
    t.match(r.stderr, /\[remote w1 /, 'finished on the farm, not cut off');
  }
  t.equal(await exited, 0, 'the server exited cleanly after draining');
});
