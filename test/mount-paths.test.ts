// Launcher and workers see the shared tree at different paths: private bind mounts per worker.
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { artefacts, build, configure, copySample, differences } from './helpers/cmake.js';
import { farmLogs, startFarm } from './helpers/farm.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'distbuild-mounts-'));
const shared = path.join(root, 'shared');
const src = path.join(shared, 'src');
const buildDir = path.join(shared, 'build');
mkdirSync(shared);
copySample(src);
t.teardown(() => rmSync(root, { recursive: true, force: true }));

/** Runs the worker in its own mount namespace, where `shared` is bind-mounted at `at`. */
const bindAt = (at: string) => (argv: string[]): string[] => {
  mkdirSync(at, { recursive: true });
  return ['unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', shared, at, ...argv];
};

const w1 = path.join(root, 'worker1-view');
const w2 = path.join(root, 'worker2-view');
const farm = await startFarm({
  workers: [
    { name: 'w1', mount: w1, wrap: bindAt(w1) },
    { name: 'w2', mount: w2, wrap: bindAt(w2) },
  ],
});
t.teardown(() => farm.stop());

const debugInfo = ['-DCMAKE_BUILD_TYPE=RelWithDebInfo'];

t.test('plain build first, as the reference', async () => {
  await configure(src, buildDir, 'Ninja', undefined, debugInfo);
  await build(buildDir, 'Ninja');
  renameSync(buildDir, path.join(shared, 'build-plain'));
});

t.test('the build passes with each host at its own mount path', async (t) => {
  await configure(src, buildDir, 'Ninja', farm.launcherArgs(shared), debugInfo);
  const out = await build(buildDir, 'Ninja');
  t.same(out.local, [], 'nothing ran locally');
  const status = await farm.status();
  t.equal(status.totals.compiles, 39);
  t.equal(status.totals.succeeded, status.totals.submitted);
  for (const w of status.workers) t.ok(w.completed > 0, `${w.name} took jobs`);
  const calc = await execa(path.join(buildDir, 'sample-calc'));
  t.match(calc.stdout, /sample-calc OK$/);
  const report = await execa(path.join(buildDir, 'sample-report'));
  t.match(report.stdout, /sample-report OK$/);
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('objects with debug info are byte-identical to the plain build all the same', async (t) => {
  const files = artefacts(path.join(shared, 'build-plain'));
  t.ok(files.length >= 43, `${files.length} artefacts compared`);
  t.same(differences(path.join(shared, 'build-plain'), buildDir, files), []);
});

t.test("depfiles come back in the launcher's paths: a second build does no work", async (t) => {
  const again = await build(buildDir, 'Ninja');
  t.match(again.output, /no work to do/);
  const deps = await execa('ninja', ['-C', buildDir, '-t', 'deps']);
  t.notMatch(deps.stdout, /worker[12]-view/, "no worker's path leaked into ninja's dependency log");
  t.match(deps.stdout, new RegExp(`${shared}/src/include/sample/common.h`));
});
