// A real project from Debian's sources (c-ares), plain vs through a farm with mTLS and a token: byte-identical, all remote.
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import type { StatusReply } from '../src/protocol/messages.js';
import { artefacts, build, configure, differences, type Generator } from './helpers/cmake.js';
import { BIN, ROOT, clientTlsEnv, farmLogs, genCerts, startFarm } from './helpers/farm.js';

const PACKAGE = 'c-ares=1.18.1-3';
const OPTIONS = ['-DCARES_STATIC=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'];

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-real-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), PACKAGE, mount]);
const src = fetched.stdout.trim().split('\n').at(-1) ?? '';
const buildDir = path.join(mount, 'build');

// Secure end to end: the server requires client certificates of the farm's CA and a token; the
// workers, the launchers' agent and --status present both.
const certDir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-real-certs-'));
t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
const certs = await genCerts(path.join(certDir, 'certs'));
const TOKEN = 'real-project-token';
const secure = { DISTBUILD_TOKEN: TOKEN, ...clientTlsEnv(certs) };
/** Workers without address randomisation, for the -gsplit-dwarf cycle below. */
const noAslr = (argv: string[]): string[] => ['setarch', '-R', ...argv];
const farm = await startFarm({ certs, env: { DISTBUILD_TOKEN: TOKEN }, workers: [{ name: 'w1', mount, wrap: noAslr }, { name: 'w2', mount, wrap: noAslr }] });
t.teardown(() => farm.stop());
t.match(farmLogs(farm), /listening \(mTLS \+ token\)/, 'the server serves mTLS and requires a token');

/** `distbuild --status --json`, exactly as a user would run it. */
async function statusJson(): Promise<StatusReply> {
  const out = await execa(process.execPath, [BIN, '--status', '--json', `--server-addr=${farm.addr}`], { env: secure });
  return JSON.parse(out.stdout) as StatusReply;
}

for (const generator of ['Ninja', 'Unix Makefiles'] as Generator[]) {
  t.test(`${generator}: byte-identical to a plain build, every job on a worker`, async (t) => {
    const reference = path.join(mount, `plain-${generator.replace(' ', '-')}`);
    rmSync(buildDir, { recursive: true, force: true });
    await configure(src, buildDir, generator, undefined, OPTIONS);
    await build(buildDir, generator);
    renameSync(buildDir, reference);

    const before = await statusJson();
    await configure(src, buildDir, generator, farm.launcherArgs(mount), OPTIONS, secure);
    const out = await build(buildDir, generator, secure);
    const after = await statusJson();

    const files = artefacts(reference);
    const kinds = (re: RegExp) => files.filter((f) => re.test(f)).length;
    t.ok(kinds(/\.o$/) >= 40, `${kinds(/\.o$/)} objects`);
    t.ok(kinds(/\.a$/) >= 1 && kinds(/\.so[.\d]*$/) >= 1, 'archives and shared libraries');
    t.ok(kinds(/^bin\//) >= 3, 'executables');
    t.same(differences(reference, buildDir, files), [], 'every .o, .a, .so and executable is byte-identical');
    t.same(artefacts(buildDir), files, 'the same set of artefacts');

    t.same(out.local, [], 'nothing ran locally');
    const compiles = after.totals.compiles - before.totals.compiles;
    const links = after.totals.links - before.totals.links;
    t.equal(compiles, kinds(/\.o$/), 'one remote compile per object');
    t.ok(links >= kinds(/\.so[.\d]*$/) + kinds(/^bin\//), `${links} remote links and archive steps`);
    t.equal(out.remote, compiles + links, 'every launcher reported a remote run');
    t.equal(after.totals.failed, before.totals.failed, 'no job failed');
    t.equal(after.totals.retries, before.totals.retries, 'no job retried');
    for (const w of after.workers) {
      const was = before.workers.find((b) => b.name === w.name)?.completed ?? 0;
      t.ok(w.completed - was > 5, `${w.name} ran ${w.completed - was} of them`);
    }
    const ahost = await execa(path.join(buildDir, 'bin', 'ahost'), ['localhost'], { reject: false });
    t.match(ahost.stdout, /127\.0\.0\.1|::1/, 'the farm-built ahost resolves localhost');
    if (t.passing() === false) t.comment(farmLogs(farm));
    rmSync(reference, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });
}

// Flags that name files after the object. gcc stamps instrumented objects and .gcno files with the
// time unless -frandom-seed says otherwise; gcc 12 derives some -gsplit-dwarf DWO ids from heap
// addresses, and a profile's `ior` counters record pointer values. So without -frandom-seed, and
// with address randomisation (setarch -R turns it off, for the workers too), two local cycles differ.
const SEED = '-frandom-seed=c-ares';
const NO_ASLR = ['setarch', '-R'];
const PROFILE_FILES = /\.(gcda|gcno|dwo)$/;
/** A cycle: builds with these C flags, and training runs of the instrumented ahost (which write a .gcda next to every object it ran). */
type Step = { readonly cflags: string } | 'train';
const CYCLES: ReadonlyArray<readonly [string, readonly Step[]]> = [
  ['a PGO cycle (-fprofile-generate, a training run, -fprofile-use)', [{ cflags: `-fprofile-generate ${SEED}` }, 'train', { cflags: '-fprofile-use -fprofile-correction' }]],
  ['--coverage and -gsplit-dwarf', [{ cflags: `--coverage -gsplit-dwarf ${SEED}` }]],
];

/** Runs a cycle's steps in buildDir, plain or through the farm, calling `check` after each build. */
async function runCycle(steps: readonly Step[], farmed: boolean, check: (stage: number, local: readonly string[]) => void): Promise<void> {
  for (const [stage, step] of steps.entries()) {
    if (step === 'train') {
      const ahost = await execa(NO_ASLR[0] ?? '', [...NO_ASLR.slice(1), path.join(buildDir, 'bin', 'ahost'), 'localhost'], { reject: false });
      if (!/127\.0\.0\.1|::1/.test(ahost.stdout)) throw new Error(`the training run failed: ${ahost.stdout}${ahost.stderr}`);
      continue;
    }
    const options = [...OPTIONS, `-DCMAKE_C_FLAGS=${step.cflags}`];
    await configure(src, buildDir, 'Ninja', farmed ? farm.launcherArgs(mount) : undefined, options, farmed ? secure : {});
    const out = await build(buildDir, 'Ninja', farmed ? secure : {}, NO_ASLR);
    check(stage, out.local);
  }
}

for (const [name, steps] of CYCLES) {
  t.test(`${name}: through the farm, byte-identical to the local cycle`, async (t) => {
    // Profiles are found by the object's absolute path, so both cycles run in the same directory;
    // the local one leaves a copy of the tree after each build.
    const reference = (stage: number): string => path.join(mount, `plain-stage-${stage}`);
    rmSync(buildDir, { recursive: true, force: true });
    await runCycle(steps, false, (stage) => cpSync(buildDir, reference(stage), { recursive: true }));
    rmSync(buildDir, { recursive: true, force: true });
    const before = await statusJson();
    await runCycle(steps, true, (stage, local) => {
      const step = steps[stage];
      const what = step === undefined || step === 'train' ? '' : step.cflags;
      t.same(local, [], `${what}: nothing ran locally`);
      const files = artefacts(reference(stage), PROFILE_FILES);
      t.same(differences(reference(stage), buildDir, files), [], `${what}: every object, profile, note, .dwo, archive and executable is byte-identical`);
      t.same(artefacts(buildDir, PROFILE_FILES), files, `${what}: the same set of files`);
    });
    const after = await statusJson();
    const last = artefacts(reference(steps.length - 1), PROFILE_FILES);
    const kinds = (re: RegExp) => last.filter((f) => re.test(f)).length;
    const written = name.startsWith('a PGO') ? kinds(/\.gcda$/) : Math.min(kinds(/\.gcno$/), kinds(/\.dwo$/));
    t.ok(written >= 20, `${written} profiles, notes or .dwo files next to the objects`);
    t.equal(after.totals.failed, before.totals.failed, 'no job failed');
    if (t.passing() === false) t.comment(farmLogs(farm));
    for (const stage of steps.keys()) rmSync(reference(stage), { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });
}
