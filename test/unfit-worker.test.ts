// Workers that cannot run a job (mount not mounted, compiler not installed) fail their attempts, never the build.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'distbuild-unfit-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const mount = path.join(tmp, 'mount');
const work = path.join(mount, 'w');
const local = path.join(tmp, 'local');
/** What w-unmounted has where the shared filesystem should be: an empty directory, as an unmounted mount point is. */
const unmounted = path.join(tmp, 'not-mounted');
mkdirSync(work, { recursive: true });
mkdirSync(local);
mkdirSync(unmounted);
/** A gcc that says it is another version: a worker whose compiler differs from the client's. */
const otherGcc = path.join(tmp, 'other-gcc');
mkdirSync(otherGcc);
writeFileSync(path.join(otherGcc, 'gcc'), '#!/bin/sh\nif [ "$1" = --version ]; then echo "gcc (Other) 99.1.0"; exit 0; fi\nexec /usr/bin/gcc "$@"\n', { mode: 0o755 });
const FILES = Array.from({ length: 12 }, (_, i) => `u${i}.c`);
for (const [i, f] of FILES.entries()) {
  const text = `int f${i}(int x) { return x * ${i + 1}; }\n`;
  writeFileSync(path.join(work, f), text);
  writeFileSync(path.join(local, f), text);
}

t.test('a worker removes the scratch files a dead worker left behind', async (t) => {
  // A pid that is not running: the largest pid the kernel could hand out, plus one.
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const stale = path.join(os.tmpdir(), `distbuild-worker-${pidMax + 1}`);
  mkdirSync(stale, { recursive: true });
  writeFileSync(path.join(stale, 'distbuild-x.rsp'), '-c a.c\n');
  const farm = await startFarm({ workers: [{ name: 'cleaner', mount }] });
  t.teardown(() => farm.stop());
  t.notOk(existsSync(stale), 'the dead worker\'s scratch directory is gone');
  const pid = farm.workers.get('cleaner')?.pid ?? 0;
  t.ok(existsSync(path.join(os.tmpdir(), `distbuild-worker-${pid}`)), 'the live worker has its own');
});

t.test('jobs refused by an unmounted worker, one without gcc and one with another gcc build on the healthy worker', async (t) => {
  // Three unfit workers and one healthy: enough attempts to reach it (placement does not yet match compilers).
  const farm = await startFarm({
    serverArgs: ['--max-attempts=4'],
    workers: [
      { name: 'w-unmounted', mount: unmounted },
      // Its PATH has no gcc: the job's "gcc" is not installed there.
      { name: 'w-nogcc', mount, env: { PATH: '/nonexistent' } },
      // Its gcc is another compiler than the client's: its objects would differ.
      { name: 'w-othergcc', mount, env: { PATH: `${otherGcc}:${process.env.PATH ?? '/usr/bin:/bin'}` } },
      { name: 'w-healthy', mount },
    ],
  });
  t.teardown(() => farm.stop());
  const results = await Promise.all(
    FILES.map((f) =>
      execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--verbose', '--no-fallback', '--compiler', '--', 'gcc', '-O2', '-c', f, '-o', f.replace(/\.c$/, '.o')], {
        cwd: work,
        reject: false,
      }),
    ),
  );
  for (const [i, r] of results.entries()) {
    const f = FILES[i] ?? '';
    t.equal(r.exitCode, 0, `${f} built (${r.stderr.trim()})`);
    t.match(r.stderr, /\[remote w-healthy /, `${f} ran on the healthy worker`);
    await execa('gcc', ['-O2', '-c', f, '-o', f.replace(/\.c$/, '.o')], { cwd: local });
    const o = f.replace(/\.c$/, '.o');
    t.ok(readFileSync(path.join(work, o)).equals(readFileSync(path.join(local, o))), `${o} is byte-identical to a local build`);
  }
  const s = await farm.status();
  const byName = new Map(s.workers.map((w) => [w.name, w]));
  t.equal(byName.get('w-healthy')?.circuit, 'closed');
  const unmountedFailures = byName.get('w-unmounted')?.failed ?? 0;
  t.comment(`attempts failed: w-unmounted ${unmountedFailures}, w-nogcc ${byName.get('w-nogcc')?.failed ?? 0}, retries ${s.totals.retries}`);
  t.equal(byName.get('w-nogcc')?.failed, 0, 'a worker without the compiler is not held at fault: the job may simply need another');
  t.equal(byName.get('w-othergcc')?.completed, 0, 'a worker whose gcc is another version builds nothing');
  t.equal(byName.get('w-othergcc')?.failed, 0, 'and is not held at fault for it');
  t.ok(s.totals.retries >= 1, 'attempts on the unfit workers were retried elsewhere');
  if (unmountedFailures >= 3) {
    t.not(byName.get('w-unmounted')?.circuit, 'closed', 'the unmounted worker is benched by its circuit breaker');
    // Reconnecting (here: restarting under the same name on the same host) does not start it clean.
    const old = farm.workers.get('w-unmounted');
    const exited = new Promise((resolve) => old?.once('exit', resolve));
    old?.kill('SIGKILL');
    await exited;
    await farm.startWorker({ name: 'w-unmounted', mount: unmounted });
    const again = (await farm.status()).workers.find((w) => w.name === 'w-unmounted');
    t.not(again?.circuit, 'closed', 'its breaker state survives the reconnection');
  }
  if (t.passing() === false) t.comment(farmLogs(farm));
});
