// Two workers with different compilers under the same paths (a private bind mount for one): each job goes only to the worker with the client's compiler.
import { chmodSync, copyFileSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { artefacts, build, configure, copySample, differences } from './helpers/cmake.js';
import { childEnv, farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'distbuild-toolchains-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const mount = path.join(root, 'shared');
const src = path.join(mount, 'src');
const buildDir = path.join(mount, 'build');
copySample(src);

// The other worker's /usr/bin gcc and g++ binaries are wrappers that report another version
// (and run copies of the real drivers): another toolchain at the very same paths.
const gcc = realpathSync('/usr/bin/gcc');
const gxx = realpathSync('/usr/bin/g++');
const other = path.join(root, 'other-toolchain');
const wrappers = [gcc, gxx].map((real) => {
  const name = path.basename(real);
  copyFileSync(real, path.join(root, `${name}.real`));
  chmodSync(path.join(root, `${name}.real`), 0o755);
  const wrapper = `${other}-${name}`;
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = --version ]; then echo "${name} (Other) 13.9.9"; exit 0; fi\nexec '${path.join(root, `${name}.real`)}' "$@"\n`, { mode: 0o755 });
  return [wrapper, real] as const;
});
const binds = wrappers.map(([wrapper, real]) => `mount --bind '${wrapper}' '${real}'`).join(' && ');
const otherToolchain = (argv: string[]): string[] => ['unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', `${binds} && exec "$@"`, 'sh', ...argv];

const farm = await startFarm({ workers: [{ name: 'own', mount }, { name: 'other', mount, wrap: otherToolchain }] });
t.teardown(() => farm.stop());

t.test("every job goes to the worker with the client's compiler; the other is shown as a mismatch", async (t) => {
  await configure(src, buildDir, 'Ninja', undefined, ['-DCMAKE_BUILD_TYPE=RelWithDebInfo']);
  await build(buildDir, 'Ninja');
  const plain = path.join(mount, 'plain');
  renameSync(buildDir, plain);
  await configure(src, buildDir, 'Ninja', farm.launcherArgs(mount, ['--cache=false']), ['-DCMAKE_BUILD_TYPE=RelWithDebInfo']);
  const out = await build(buildDir, 'Ninja');
  const lines = out.output.split('\n');
  const compilesAndLinks = lines.filter((l) => /^\[remote \S+ [\d.]+s\] /.test(l) && !/\.a$/.test(l));
  t.ok(compilesAndLinks.length >= 40, `${compilesAndLinks.length} compiles and links ran on the farm`);
  t.same(compilesAndLinks.filter((l) => !l.startsWith('[remote own ')), [], 'all of them on the worker whose compiler is the client\'s');
  t.same(out.local, [], 'nothing ran locally');
  t.same(differences(plain, buildDir, artefacts(plain)), [], 'every output is byte-identical to the plain build');
  const after = await farm.status();
  t.equal(after.totals.retries, 0, 'no attempt was sent to the other worker and retried');
  const otherWorker = after.workers.find((w) => w.name === 'other');
  const archivesOnOther = lines.filter((l) => l.startsWith('[remote other ')).length;
  t.equal(otherWorker?.completed, archivesOnOther, 'the other worker ran only archive steps, which name no compiler');
  t.equal(otherWorker?.failed, 0, 'and failed none');
  const status = await execa(launcherExe(), ['--status', `--server-addr=${farm.addr}`], { env: childEnv() });
  t.match(status.stdout, /other: \d+ jobs kept away, its compiler is not the client's \(it has .*"\(Other\) 13\.9\.9\|x86_64-linux-gnu"/, '--status shows the mismatch');
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('a job no worker can take builds locally with the reason, or fails under --no-fallback', async (t) => {
  const own = farm.workers.get('own');
  own?.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  while ((await farm.status()).workers.some((w) => w.name === 'own') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  writeFileSync(path.join(mount, 'lone.c'), 'int lone(void) { return 1; }\n');
  const args = [...farm.launcherArgs(mount).slice(1), '--verbose', '--cache=false'];
  const local = await execa(launcherExe(), [...args, '--compiler', '--', 'gcc', '-c', 'lone.c', '-o', 'lone.o'], { cwd: mount, env: childEnv(), reject: false });
  t.equal(local.exitCode, 0, 'it builds');
  t.match(local.stderr, /\[local: no worker has the client's gcc \("[^"]+"\): other has "\(Other\) 13\.9\.9\|x86_64-linux-gnu"\] lone\.c/, 'locally, saying which compilers the workers have');
  const strict = await execa(launcherExe(), [...args, '--no-fallback', '--compiler', '--', 'gcc', '-c', 'lone.c', '-o', 'lone.o'], { cwd: mount, env: childEnv(), reject: false });
  t.equal(strict.exitCode, 1, '--no-fallback fails');
  t.match(strict.stderr, /no worker has the client's gcc .*not building locally because fallback is off/, 'with the reason');
});
