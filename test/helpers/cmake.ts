// Configures and builds CMake projects for tests, with or without the farm.
import { cpSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from './farm.js';

export type Generator = 'Ninja' | 'Unix Makefiles';

export const SAMPLE_PROJECT = path.join(ROOT, 'test', 'fixtures', 'sample-project');
export const DISTBUILD_CMAKE = path.join(ROOT, 'cmake', 'DistBuild.cmake');

export function copySample(dest: string): void {
  cpSync(SAMPLE_PROJECT, dest, { recursive: true });
}

/**
 * cmake -S src -B build; `launcher` is the farm's launcher argv prefix (without --compiler), or
 * undefined for a plain build; `env` is added to the environment (e.g. the farm's token and TLS files).
 */
export async function configure(
  src: string, build: string, generator: Generator, launcher: readonly string[] | undefined, extra: readonly string[] = [], env: Record<string, string> = {},
): Promise<void> {
  const args = ['-S', src, '-B', build, '-G', generator, ...extra];
  if (launcher !== undefined) {
    const [exe, ...flags] = launcher;
    args.push(
      `-DCMAKE_PROJECT_INCLUDE=${DISTBUILD_CMAKE}`,
      `-DDISTBUILD_EXECUTABLE=${exe ?? ''}`,
      `-DDISTBUILD_EXTRA_ARGS=${flags.join(';')}`,
      '-DDISTBUILD_VERBOSE=ON',
    );
  }
  await execa('cmake', args, { stdio: 'pipe', env });
}

export interface BuildOutput {
  readonly output: string;
  readonly remote: number;
  readonly local: string[];
}

/**
 * Runs the generator's build tool with -j2 and collects the launchers' verbose lines; `prefix`
 * wraps the tool's command (e.g. ['setarch', '-R']).
 */
export async function build(buildDir: string, generator: Generator, env: Record<string, string> = {}, prefix: readonly string[] = []): Promise<BuildOutput> {
  const tool = generator === 'Ninja' ? 'ninja' : 'make';
  const [exe, ...args] = [...prefix, tool, '-C', buildDir, '-j2'];
  const result = await execa(exe ?? tool, args, { all: true, env, reject: false });
  const output = result.all;
  if (result.exitCode !== 0) throw new Error(`${tool} failed with exit code ${result.exitCode}:\n${output}`);
  const lines = output.split('\n');
  return {
    output,
    remote: lines.filter((l) => l.startsWith('[remote ')).length,
    local: lines.filter((l) => l.startsWith('[local:')),
  };
}

/**
 * Every build artefact (objects, archives, shared libraries, executables) under `dir`, relative paths;
 * `also` adds files whose names match it (e.g. profiles and split DWARF).
 */
export function artefacts(dir: string, also?: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        // CMakeFiles/<version>/ holds configure's compiler probes, built in scratch directories.
        if (!/^CMakeFiles\/\d/.test(path.relative(dir, p))) walk(p);
      } else if (entry.isFile()) {
        const isArtefact = /\.(o|a|so(\.[\d.]+)?)$/.test(entry.name) || also?.test(entry.name) === true || isElfExecutable(p);
        if (isArtefact) out.push(path.relative(dir, p));
      }
    }
  };
  walk(dir);
  return out.sort();
}

function isElfExecutable(p: string): boolean {
  const st = statSync(p);
  if ((st.mode & 0o111) === 0 || st.size < 4) return false;
  const head = readFileSync(p).subarray(0, 4);
  return head.toString('latin1') === '\x7fELF';
}

/** Relative paths whose bytes differ between two trees (or exist in only one). */
export function differences(a: string, b: string, files: readonly string[]): string[] {
  const diff: string[] = [];
  for (const f of files) {
    try {
      if (!readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f)))) diff.push(f);
    } catch {
      diff.push(f);
    }
  }
  return diff;
}
