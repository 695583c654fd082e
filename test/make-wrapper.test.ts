// A real Makefile project (zlib from Debian's sources, not CMake) through `distbuild make` and through a masquerade directory: every job on a worker, byte-identical, its tests pass.
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { ROOT, childEnv, farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-make-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), 'zlib=1:1.2.13.dfsg-1', path.join(mount, 'fetched')]);
const pristine = fetched.stdout.trim().split('\n').at(-1) ?? '';
const tree = path.join(mount, 'zlib');

const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
t.teardown(() => farm.stop());
/** The launcher settings, as flags of the wrapper. */
const flags = farm.launcherArgs(mount).slice(1);
const env = childEnv();

/** A fresh copy of the sources at `tree`, configured plainly (configure's own compiler tests run here). */
async function freshTree(): Promise<void> {
  rmSync(tree, { recursive: true, force: true });
  cpSync(pristine, tree, { recursive: true });
  await execa('./configure', [], { cwd: tree, env });
}

/** Objects, archives, shared libraries and executables the build wrote, by relative path → bytes. */
function outputs(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(o|lo|a)$|\.so[.\d]*$/.test(e.name) || (e.isFile() && (statSync(p).mode & 0o111) !== 0 && readFileSync(p).subarray(0, 4).toString('latin1') === '\x7fELF')) {
        out.set(path.relative(dir, p), readFileSync(p));
      }
    }
  };
  walk(dir);
  return out;
}

await freshTree();
await execa('make', ['-j2'], { cwd: tree, env });
const reference = outputs(tree);
const plainDir = path.join(mount, 'zlib-plain');
renameSync(tree, plainDir);

function sameAsPlain(t: Test, label: string): void {
  const built = outputs(tree);
  t.ok(reference.size >= 40, `${reference.size} objects, archives, libraries and programs in the plain build`);
  t.same([...built.keys()].sort(), [...reference.keys()].sort(), `${label}: the same files`);
  const differ = [...reference].filter(([f, bytes]) => built.get(f)?.equals(bytes) !== true).map(([f]) => f);
  t.same(differ, [], `${label}: every one byte-identical to the plain build`);
}

t.test('distbuild make -jN: every compile and link on a worker, byte-identical, make test passes', async (t) => {
  await freshTree();
  const r = await execa(launcherExe(), [...flags, '-v', 'make', '-j2'], { cwd: tree, env, reject: false, all: true });
  t.equal(r.exitCode, 0, 'distbuild make exits 0');
  if (r.exitCode !== 0) t.comment(r.all.slice(-2000));
  const remote = r.all.split('\n').filter((l) => l.startsWith('[remote '));
  t.same(r.all.split('\n').filter((l) => l.startsWith('[local:')), [], 'nothing ran locally');
  t.ok(remote.filter((l) => /\.c$/.test(l)).length >= 28, `${remote.length} jobs ran on the farm`);
  const summary = /distbuild: make: (\d+) jobs remote, (\d+) local, (\d+) from the cache, in [\d.]+s/.exec(r.stderr);
  t.ok(summary !== null, `the summary line: ${r.stderr.split('\n').filter((l) => l.startsWith('distbuild:')).join(' | ')}`);
  t.equal(Number(summary?.[1]), remote.length, 'it counts the remote jobs');
  sameAsPlain(t, 'distbuild make');
  const test = await execa(launcherExe(), [...flags, 'make', 'test'], { cwd: tree, env, reject: false, all: true });
  t.equal(test.exitCode, 0, 'make test passes');
  t.match(test.all, /\*\*\* zlib test OK \*\*\*/, "zlib's own test says OK");
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('PATH=<masquerade dir>:$PATH make: every compile and link on a worker, byte-identical', async (t) => {
  const masq = path.join(mount, 'masq');
  const w = await execa(launcherExe(), ['--masquerade', masq], { env, reject: false, all: true });
  t.equal(w.exitCode, 0, `--masquerade: ${w.all}`);
  for (const name of ['gcc', 'cc', 'ar']) t.ok(readdirSync(masq).includes(name), `the masquerade has ${name}`);
  await freshTree();
  const settings = Object.fromEntries(flags.map((f) => /^--([^=]+)=(.*)$/.exec(f)).filter((m) => m !== null).map((m) => [`DISTBUILD_${(m[1] ?? '').replace(/-/g, '_').toUpperCase()}`, m[2] ?? '']));
  const r = await execa('make', ['-j2'], { cwd: tree, env: { ...env, ...settings, DISTBUILD_VERBOSE: '1', PATH: `${masq}:${env.PATH ?? ''}` }, reject: false, all: true });
  t.equal(r.exitCode, 0, 'make exits 0');
  if (r.exitCode !== 0) t.comment(r.all.slice(-2000));
  const lines = r.all.split('\n');
  t.same(lines.filter((l) => l.startsWith('[local:')), [], 'nothing ran locally');
  t.ok(lines.filter((l) => l.startsWith('[remote ') && /\.c$/.test(l)).length >= 28, 'the compiles ran on the farm');
  t.ok(lines.some((l) => /^\[remote \S+ [\d.]+s\] libz\.a$/.test(l)), 'ar ran on the farm');
  sameAsPlain(t, 'the masquerade');
  const masqEnv = { ...env, ...settings, PATH: `${masq}:${env.PATH ?? ''}` };
  const test = await execa('make', ['test'], { cwd: tree, env: masqEnv, reject: false, all: true });
  t.match(test.all, /\*\*\* zlib test OK \*\*\*/, "zlib's own test says OK");
  if (t.passing() === false) t.comment(farmLogs(farm));
});
