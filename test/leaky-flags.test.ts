// Flags that name files after the object (PGO, coverage, split DWARF): through the farm, byte-identical to a local build.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { childEnv, farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-leaky-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const work = path.join(mount, 'proj');
mkdirSync(work);
const SOURCES: Record<string, string> = {
  'main.c': '#include <stdio.h>\nint f(int);\nint main(void) { int s = 0; for (int i = 0; i < 100; i++) s += f(i); printf("%d\\n", s); return 0; }\n',
  'f.c': 'int f(int x) {\n  if (x > 90) return x * 3;\n  if (x % 7 == 0) return x / 7;\n  return x + 1;\n}\n',
};
for (const [name, text] of Object.entries(SOURCES)) writeFileSync(path.join(work, name), text);

type Step = { readonly mode: '--compiler' | '--linker'; readonly argv: readonly string[] } | { readonly run: string };
const cc = (...argv: string[]): Step => ({ mode: '--compiler', argv: ['gcc', ...argv] });
const ld = (...argv: string[]): Step => ({ mode: '--linker', argv: ['gcc', ...argv] });
/** A PGO cycle, then coverage and split-DWARF compiles, each with a depfile. */
// gcc stamps instrumented objects and .gcno files with the time unless -frandom-seed says otherwise:
// without it, two local builds differ too.
const STEPS: Step[] = [
  cc('-O2', '-fprofile-generate', '-frandom-seed=main.o', '-MD', '-c', 'main.c', '-o', 'main.o'),
  cc('-O2', '-fprofile-generate', '-frandom-seed=f.o', '-MD', '-MF', 'f-gen.d', '-c', 'f.c', '-o', 'f.o'),
  ld('-O2', '-fprofile-generate', 'main.o', 'f.o', '-o', 'app-gen'),
  { run: './app-gen' },
  cc('-O2', '-fprofile-use', '-fprofile-correction', '-MD', '-c', 'main.c', '-o', 'main.o'),
  cc('-O2', '-fprofile-use', '-MD', '-c', 'f.c', '-o', 'f.o'),
  ld('-O2', 'main.o', 'f.o', '-o', 'app'),
  cc('--coverage', '-frandom-seed=cov.o', '-MD', '-c', 'f.c', '-o', 'cov.o'),
  cc('-g', '-gsplit-dwarf', '-MD', '-c', 'f.c', '-o', 'split.o'),
];

/** Every file the steps left in the tree, by name (the sources excepted), after removing them. */
function harvest(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(work).sort()) {
    if (name in SOURCES) continue;
    files.set(name, readFileSync(path.join(work, name)));
    rmSync(path.join(work, name));
  }
  return files;
}

t.test('PGO, coverage and split DWARF through the farm are byte-identical to the local cycle', async (t) => {
  const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 2 }] });
  t.teardown(() => farm.stop());
  const env = childEnv();
  for (const step of STEPS) {
    if ('run' in step) await execa(step.run, { cwd: work, env });
    else await execa(step.argv[0] ?? '', step.argv.slice(1), { cwd: work, env });
  }
  const local = harvest();
  t.ok(['main.gcda', 'f.gcda', 'cov.gcno', 'split.dwo', 'main.d', 'f-gen.d', 'cov.d', 'split.d'].every((f) => local.has(f)), `the local cycle wrote its profiles, notes and depfiles: ${[...local.keys()].join(' ')}`);

  for (const step of STEPS) {
    if ('run' in step) {
      await execa(step.run, { cwd: work, env });
      continue;
    }
    const r = await execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--verbose', '--no-fallback', step.mode, '--', ...step.argv], { cwd: work, env, reject: false });
    t.equal(r.exitCode, 0, `${step.argv.join(' ')}: ${r.stderr.trim()}`);
    t.match(r.stderr, /\[remote w1 /, `${step.argv.join(' ')} ran on the worker`);
  }
  const farmed = harvest();
  t.same([...farmed.keys()], [...local.keys()], 'the same files');
  for (const [name, bytes] of local) t.ok(farmed.get(name)?.equals(bytes), `${name} is byte-identical`);
  if (t.passing() === false) t.comment(farmLogs(farm));
});
