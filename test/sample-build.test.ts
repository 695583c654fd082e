// The sample project through a real farm: every job remote, spread, byte-identical, incremental.
import { mkdtempSync, renameSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { DISTBUILD_CMAKE, artefacts, build, configure, copySample, differences } from './helpers/cmake.js';
import { farmLogs, startFarm } from './helpers/farm.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-sample-'));
const src = path.join(mount, 'src');
const buildDir = path.join(mount, 'build');
copySample(src);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
t.teardown(() => farm.stop());

t.test('plain build first, as the reference', async () => {
  await configure(src, buildDir, 'Ninja', undefined);
  await build(buildDir, 'Ninja');
  renameSync(buildDir, path.join(mount, 'build-plain'));
});

t.test('every compile and link runs on a worker, spread over both', async (t) => {
  await configure(src, buildDir, 'Ninja', farm.launcherArgs(mount));
  const out = await build(buildDir, 'Ninja');
  t.same(out.local, [], 'no job ran locally');
  const status = await farm.status();
  // 39 compiles; links: the shared library, two executables, and ar + ranlib for the archive.
  t.equal(status.totals.compiles, 39, 'every compile ran on a worker');
  t.equal(status.totals.links, 5, 'every link and archive step ran on a worker');
  t.equal(out.remote, status.totals.submitted, 'each launcher reported a remote run');
  t.equal(status.totals.succeeded, status.totals.submitted);
  t.equal(status.totals.retries, 0);
  for (const w of status.workers) t.ok(w.completed > 5, `${w.name} ran ${w.completed} jobs`);
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('the executables run', async (t) => {
  const calc = await execa(path.join(buildDir, 'sample-calc'));
  t.match(calc.stdout, /sample-calc OK$/);
  const report = await execa(path.join(buildDir, 'sample-report'));
  t.match(report.stdout, /sample-report OK$/);
});

t.test('every object, archive, shared library and executable is byte-identical to the plain build', async (t) => {
  const files = artefacts(path.join(mount, 'build-plain'));
  t.ok(files.length >= 43, `${files.length} artefacts compared`);
  t.same(differences(path.join(mount, 'build-plain'), buildDir, files), []);
  t.same(artefacts(buildDir), files, 'the same set of artefacts');
});

t.test('an immediate second build does no work', async (t) => {
  const out = await build(buildDir, 'Ninja');
  t.match(out.output, /no work to do/);
});

t.test('touching the common header rebuilds exactly the units that include it, from the cache', async (t) => {
  const before = await farm.status();
  const header = path.join(src, 'include', 'sample', 'common.h');
  const now = new Date();
  utimesSync(header, now, now);
  const out = await build(buildDir, 'Ninja');
  const compiled = out.output.split('\n').filter((l) => / Building (C|CXX) object /.test(l));
  t.equal(compiled.length, 35, '35 of 39 units include common.h');
  t.notOk(compiled.some((l) => /src\/util\//.test(l)), 'units without the header are not rebuilt');
  const after = await farm.status();
  // The header's content is unchanged, so every one of them comes from the result cache.
  t.equal(out.output.split('\n').filter((l) => l.startsWith('[cache ')).length, 35, 'and each was answered from the cache (same content)');
  t.equal(after.totals.compiles - before.totals.compiles, 0, 'so none of them took a worker slot');
  const again = await build(buildDir, 'Ninja');
  t.match(again.output, /no work to do/);
});

t.test('the CMake module warns at configure time about a tree outside the mount', async (t) => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'distbuild-not-on-mount-'));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  const [exe = ''] = farm.launcherArgs(mount);
  const outside = await execa('cmake', ['-S', src, '-B', elsewhere, '-G', 'Ninja', `-DCMAKE_PROJECT_INCLUDE=${DISTBUILD_CMAKE}`, `-DDISTBUILD_EXECUTABLE=${exe}`, `-DDISTBUILD_FS_MOUNT=${mount}`], { reject: false });
  t.equal(outside.exitCode, 0, 'configuring still succeeds');
  t.match(outside.stderr.replace(/\s+/g, ' '), new RegExp(`distbuild: ${elsewhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is outside the shared mount .*: its commands will all build locally`));
  t.notMatch(outside.stderr.replace(/\s+/g, ' '), /distbuild: \S*\/src is outside/, 'the source tree, on the mount, is not named');
});
