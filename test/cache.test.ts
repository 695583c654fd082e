// The result cache on the shared mount, on a real project (c-ares): warm rebuilds, headers, a second checkout, corruption, limits.
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { artefacts, build, configure, differences, type BuildOutput } from './helpers/cmake.js';
import { BIN, ROOT, farmLogs, startFarm } from './helpers/farm.js';
import { cacheEntries, waitForEntries } from './helpers/cache.js';

const PACKAGE = 'c-ares=1.18.1-3';
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-cache-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const cacheDir = path.join(mount, '.distbuild-cache');

/** A checkout of c-ares at mount/NAME: its source tree and its build directory. */
async function checkout(name: string): Promise<{ root: string; src: string; build: string }> {
  const root = path.join(mount, name);
  const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), PACKAGE, root]);
  return { root, src: fetched.stdout.trim().split('\n').at(-1) ?? '', build: path.join(root, 'build') };
}
const a = await checkout('a');

const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
t.teardown(() => farm.stop());

/** The flags that make entries portable between checkouts: no path under the checkout is recorded. */
const options = (root: string): string[] => ['-DCARES_STATIC=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo', `-DCMAKE_C_FLAGS=-ffile-prefix-map=${root}=.`];

/** Configures and builds a checkout through the farm (or plainly), from an empty build directory. */
async function farmBuild(c: { root: string; src: string; build: string }, extra: readonly string[] = [], buildDir = c.build): Promise<BuildOutput> {
  rmSync(buildDir, { recursive: true, force: true });
  await configure(c.src, buildDir, 'Ninja', farm.launcherArgs(mount, extra), options(c.root));
  return build(buildDir, 'Ninja');
}
async function plainBuild(c: { root: string; src: string; build: string }, buildDir = c.build): Promise<void> {
  rmSync(buildDir, { recursive: true, force: true });
  await configure(c.src, buildDir, 'Ninja', undefined, options(c.root));
  await build(buildDir, 'Ninja');
}

/** The sources of the verbose lines of one kind ("cache" or "remote" compiles), sorted. */
const linesOf = (out: BuildOutput, kind: 'cache' | 'remote'): string[] =>
  out.output.split('\n').filter((l) => l.startsWith(`[${kind} `) && /\.c$/.test(l)).map((l) => l.replace(/^\[[^\]]*\] /, '')).sort();

const entries = (): string[] => cacheEntries(cacheDir);
const storedAtLeast = (n: number): Promise<number> => waitForEntries(cacheDir, n);

const status = async (): Promise<{ hits: number; misses: number }> => {
  const s = await farm.status();
  return { hits: s.totals.cacheHits, misses: s.totals.cacheMisses };
};

let reference = '';
let compiles = 0;

t.test('a warm rebuild after rm -rf build: every compile a hit, every output byte-identical to the cold build', async (t) => {
  const cold = await farmBuild(a);
  compiles = linesOf(cold, 'remote').length;
  t.ok(compiles >= 100, `${compiles} compiles ran on the farm`);
  t.same(linesOf(cold, 'cache'), [], 'nothing came from an empty cache');
  t.equal(await storedAtLeast(compiles), compiles, 'the workers stored one entry per compile');
  reference = path.join(a.root, 'cold');
  renameSync(a.build, reference);

  const before = await status();
  const warm = await farmBuild(a);
  t.equal(linesOf(warm, 'cache').length, compiles, 'every compile was a hit');
  t.same(linesOf(warm, 'remote'), [], 'no compile went to a worker');
  t.match(warm.output, /\[cache 0\.0\d\ds\] /, 'hits are printed with their time');
  const files = artefacts(reference);
  t.same(differences(reference, a.build, files), [], 'every object, archive, library and executable is byte-identical');
  t.same(artefacts(a.build), files, 'the same artefacts');
  const deadline = Date.now() + 10_000;
  let after = await status();
  while (after.hits - before.hits < compiles && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    after = await status();
  }
  t.equal(after.hits - before.hits, compiles, 'the server counts the hits the agent reported');
  const metrics = await execa(process.execPath, [BIN, '--status', '--json', `--server-addr=${farm.addr}`]);
  t.ok(JSON.parse(metrics.stdout).totals.cacheHits >= compiles, '--status --json shows them');
  if (t.passing() === false) t.comment(farmLogs(farm));
});

t.test('editing one header makes exactly the units that include it miss', async (t) => {
  // ninja -t deps lists each object's headers, as gcc's depfiles named them.
  const deps = (await execa('ninja', ['-C', a.build, '-t', 'deps'])).stdout;
  const header = path.join(a.src, 'src', 'lib', 'ares_nowarn.h');
  const including: string[] = [];
  for (const block of deps.split(/\n(?=\S)/)) {
    const object = /^(\S+\.o):/.exec(block)?.[1];
    const lines = block.split('\n').slice(1).map((l) => l.trim());
    const source = lines[0];
    if (object !== undefined && source !== undefined && lines.includes(header)) including.push(source);
  }
  t.ok(including.length > 0 && including.length < compiles / 2, `${including.length} units include ${path.basename(header)}`);
  const original = readFileSync(header, 'utf8');
  writeFileSync(header, `${original}\n/* edited */\n`);
  t.teardown(() => writeFileSync(header, original));
  const out = await farmBuild(a);
  t.same(linesOf(out, 'remote'), including.sort(), 'the units including the header, and only they, were compiled');
  t.equal(linesOf(out, 'cache').length, compiles - including.length, 'every other unit was a hit');
  writeFileSync(header, original);
});

t.test('a second checkout elsewhere on the mount hits, byte-identical to its own plain build', async (t) => {
  const b = await checkout('b');
  await plainBuild(b);
  const plain = path.join(b.root, 'plain');
  renameSync(b.build, plain);
  const out = await farmBuild(b);
  const hits = linesOf(out, 'cache').length;
  t.ok(hits >= 0.95 * compiles, `${hits} of ${compiles} compiles were hits`);
  const files = artefacts(plain);
  t.same(differences(plain, b.build, files), [], 'every output is byte-identical to a plain build of this checkout');
  rmSync(b.root, { recursive: true, force: true });
});

t.test('a corrupt entry is a miss, is removed, and the compile replaces it', async (t) => {
  // The most recently used entry (hits mark them): one the next build reads.
  const victim = entries().map((f) => ({ f, at: statSync(f).mtimeMs })).sort((x, y) => y.at - x.at)[0]?.f ?? '';
  const bytes = readFileSync(victim);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
  writeFileSync(victim, bytes);
  const out = await farmBuild(a);
  t.equal(linesOf(out, 'remote').length, 1, 'one compile missed');
  t.match(out.output, new RegExp(`\\[cache miss: ${victim.replace(/[.]/g, '\\.')}: its checksum does not match`), 'the miss names the file and the problem');
  t.same(differences(reference, a.build, artefacts(reference)), [], 'every output is byte-identical all the same');
  const deadline = Date.now() + 30_000;
  const replaced = (): boolean => {
    try {
      return !readFileSync(victim).equals(bytes);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return false;
      throw err;
    }
  };
  while (!replaced() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.ok(replaced(), 'the corrupt entry was replaced by the compile');
});

t.test('a compiler that reports another version misses every unit', async (t) => {
  // gcc under another --version: the same code generator, another identity.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-gcc99-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const wrapper = path.join(dir, 'gcc');
  writeFileSync(wrapper, '#!/bin/sh\nif [ "$1" = --version ]; then echo "gcc (Test) 99.0.0"; exit 0; fi\nexec /usr/bin/gcc "$@"\n', { mode: 0o755 });
  const other = await startFarm({ workers: [{ name: 'gcc99', mount, maxJobs: 2, allowlistFlag: false, args: [`--compiler-allowlist=${wrapper},gcc,ar,ranlib`] }] });
  t.teardown(() => other.stop());
  const before = entries().length;
  rmSync(a.build, { recursive: true, force: true });
  await configure(a.src, a.build, 'Ninja', other.launcherArgs(mount), [...options(a.root), `-DCMAKE_C_COMPILER=${wrapper}`]);
  const out = await build(a.build, 'Ninja');
  t.same(linesOf(out, 'cache'), [], 'no unit hit an entry of the other compiler');
  t.equal(linesOf(out, 'remote').length, compiles, 'every unit ran on the farm');
  t.equal(await storedAtLeast(before + compiles), before + compiles, 'and was stored under its own key');
  if (t.passing() === false) t.comment(farmLogs(other));
});

t.test('two builds of one tree into two build directories at once', async (t) => {
  // Debug info records the build directory (as ./build-N under the prefix map): each has its own plain reference.
  const dirs = [path.join(a.root, 'build-1'), path.join(a.root, 'build-2')];
  for (const d of dirs) {
    await plainBuild(a, d);
    renameSync(d, `${d}-plain`);
  }
  rmSync(cacheDir, { recursive: true, force: true });
  const outs = await Promise.all(dirs.map((d) => farmBuild(a, [], d)));
  for (const [i, d] of dirs.entries()) {
    t.equal(linesOf(outs[i] ?? { output: '', remote: 0, local: [] }, 'remote').length, compiles, `${path.basename(d)}: every compile ran on the farm`);
    t.same(differences(`${d}-plain`, d, artefacts(`${d}-plain`)), [], `${path.basename(d)} is byte-identical to its plain build`);
  }
  t.equal(await storedAtLeast(2 * compiles), 2 * compiles, 'both builds stored their entries');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  for (const d of dirs) rmSync(`${d}-plain`, { recursive: true, force: true });
});

t.test('cache=false neither looks up nor stores; a cache the workers cannot write leaves builds intact, and says why', async (t) => {
  const out = await farmBuild(a, ['--cache=false']);
  t.same(linesOf(out, 'cache'), [], 'no lookups with cache=false');
  t.equal(linesOf(out, 'remote').length, compiles, 'every compile ran on the farm');

  // A farm whose worker's cache_dir is a file: its stores fail, with the reason in its log.
  const blocked = path.join(mount, 'not-a-dir');
  writeFileSync(blocked, '');
  const other = await startFarm({ workers: [{ name: 'blocked', mount, maxJobs: 2, args: [`--cache-dir=${blocked}`] }] });
  t.teardown(() => other.stop());
  rmSync(a.build, { recursive: true, force: true });
  await configure(a.src, a.build, 'Ninja', other.launcherArgs(mount), options(a.root));
  const again = await build(a.build, 'Ninja');
  t.same(differences(reference, a.build, artefacts(reference)), [], 'every output is byte-identical');
  t.same(again.local, [], 'nothing fell back to a local build');
  t.ok(linesOf(again, 'remote').length + linesOf(again, 'cache').length === compiles, 'every compile ran on the blocked worker or came from the cache');
  const deadline = Date.now() + 10_000;
  const logged = (): boolean => /could not store job \S+ in the cache: .*not-a-dir/.test(farmLogs(other));
  while (linesOf(again, 'remote').length > 0 && !logged() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (linesOf(again, 'remote').length > 0) t.ok(logged(), "the blocked worker's log names the cache directory it could not write");

  // A worker with cache = read-only stores nothing.
  const readOnly = await startFarm({ workers: [{ name: 'read-only', mount, maxJobs: 2, args: ['--cache=read-only'] }] });
  t.teardown(() => readOnly.stop());
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(a.build, { recursive: true, force: true });
  await configure(a.src, a.build, 'Ninja', readOnly.launcherArgs(mount), options(a.root));
  const ro = await build(a.build, 'Ninja');
  t.equal(linesOf(ro, 'remote').length, compiles, 'every compile ran on the read-only worker');
  t.same(differences(reference, a.build, artefacts(reference)), [], 'every output is byte-identical');
  t.notMatch(farmLogs(readOnly), /storing the results/, 'the worker says it does not store');
  t.same(entries(), [], 'nothing was stored');
});

t.test('distbuild cache stats, trim to cache_max_size, clear', async (t) => {
  await farmBuild(a);
  await storedAtLeast(compiles);
  const stats = JSON.parse((await execa(process.execPath, [BIN, 'cache', 'stats', '--json', `--cache-dir=${cacheDir}`])).stdout) as { entries: number; bytes: number };
  t.ok(stats.entries >= compiles && stats.bytes > 0, `stats: ${stats.entries} entries, ${stats.bytes} bytes`);
  const limit = Math.floor(stats.bytes / 2);
  const trimmed = await execa(process.execPath, [BIN, 'cache', 'trim', `--cache-dir=${cacheDir}`, `--cache-max-size=${limit}`]);
  t.match(trimmed.stdout, /removed \d+ entries/, trimmed.stdout);
  const after = JSON.parse((await execa(process.execPath, [BIN, 'cache', 'stats', '--json', `--cache-dir=${cacheDir}`])).stdout) as { entries: number; bytes: number };
  t.ok(after.bytes <= limit && after.entries > 0, `trimmed to ${after.bytes} bytes (limit ${limit})`);
  const out = await farmBuild(a);
  t.ok(linesOf(out, 'cache').length > 0 && linesOf(out, 'remote').length > 0, 'a trimmed cache serves what it kept and the farm builds the rest');
  t.same(differences(reference, a.build, artefacts(reference)), [], 'every output is byte-identical');
  await execa(process.execPath, [BIN, 'cache', 'clear', `--cache-dir=${cacheDir}`]);
  const cleared = JSON.parse((await execa(process.execPath, [BIN, 'cache', 'stats', '--json', `--cache-dir=${cacheDir}`])).stdout) as { entries: number };
  t.equal(cleared.entries, 0, 'clear empties it');
});
