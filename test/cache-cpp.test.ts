// The result cache on a real C++ project of over 100 translation units (cppcheck): a warm rebuild after rm -rf build is all hits, byte-identical.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { artefacts, build, configure, differences, type BuildOutput } from './helpers/cmake.js';
import { ROOT, farmLogs, startFarm } from './helpers/farm.js';
import { waitForEntries } from './helpers/cache.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-cache-cpp-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), 'cppcheck=2.10-2', mount]);
const src = fetched.stdout.trim().split('\n').at(-1) ?? '';
const buildDir = path.join(mount, 'build');
const OPTIONS = ['-DBUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'];

const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
t.teardown(() => farm.stop());

/** The sources of one kind of verbose line for C++ compiles. */
const compilesOf = (out: BuildOutput, kind: 'cache' | 'remote'): string[] =>
  out.output.split('\n').filter((l) => l.startsWith(`[${kind} `) && /\.(cpp|cc|cxx|c)$/.test(l));

async function farmBuild(): Promise<BuildOutput> {
  rmSync(buildDir, { recursive: true, force: true });
  await configure(src, buildDir, 'Ninja', farm.launcherArgs(mount), OPTIONS);
  return build(buildDir, 'Ninja');
}

t.test('cppcheck: a warm rebuild after rm -rf build is all hits, every output byte-identical to the cold build', async (t) => {
  const cold = await farmBuild();
  const compiles = compilesOf(cold, 'remote').length;
  t.ok(compiles >= 100, `${compiles} C++ compiles ran on the farm`);
  const reference = path.join(mount, 'cold');
  renameSync(buildDir, reference);
  t.equal(await waitForEntries(path.join(mount, '.distbuild-cache'), compiles), compiles, 'the workers stored one entry per compile');
  const warm = await farmBuild();
  t.equal(compilesOf(warm, 'cache').length, compiles, 'every compile was a hit');
  t.same(compilesOf(warm, 'remote'), [], 'no compile went to a worker');
  const files = artefacts(reference);
  t.ok(files.filter((f) => f.endsWith('.o')).length >= 100, `${files.length} artefacts`);
  t.same(differences(reference, buildDir, files), [], 'every object, archive and executable is byte-identical');
  const testrunner = await execa(path.join(buildDir, 'bin', 'testrunner'), ['TestMathLib'], { cwd: src, reject: false });
  t.equal(testrunner.exitCode, 0, `the warm build's testrunner passes a suite: ${testrunner.stdout.split('\n').slice(-3).join(' ')}`);
  if (t.passing() === false) t.comment(farmLogs(farm));
});
