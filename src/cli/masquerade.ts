// `distbuild --masquerade DIR`: links named after the compilers and archivers on PATH, as ccache's /usr/lib/ccache, so `PATH=DIR:$PATH make` sends each compile to the farm.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { which } from '../common/find-executable.js';
import { errnoCode } from '../common/errno.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The names every masquerade directory offers when the tool exists. */
const NAMES = ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'ar', 'ranlib'];
/** Versioned and cross names found on PATH: gcc-12, x86_64-linux-gnu-g++-12, clang-16… */
const VERSIONED = /^([\w.-]+-)?(gcc|g\+\+|clang|clang\+\+)-\d+(\.\d+)*$/;

/** The program the links point at: the native client, or the Node launcher without one. */
export function clientProgram(): string {
  const native = path.join(ROOT, 'dist', 'native', 'distbuild');
  return existsSync(native) ? native : path.join(ROOT, 'bin', 'distbuild.cjs');
}

/** The tools of PATH (left of `dir` excluded) a masquerade directory links to. */
async function toolNames(dir: string, searchPath: string): Promise<string[]> {
  const dirs = searchPath.split(':').filter((d) => d !== '' && path.resolve(d) !== dir);
  const names = new Set<string>();
  for (const name of NAMES) if ((await which(name, '/', dirs.join(':'))) !== undefined) names.add(name);
  for (const d of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch (err) {
      if (errnoCode(err) === undefined) throw err;
      continue; // a PATH entry that is not a readable directory
    }
    for (const e of entries) if (VERSIONED.test(e)) names.add(e);
  }
  return [...names].sort();
}

/** Writes (or refreshes) the links in `dir`; returns their names. Throws naming a file in the way. */
export async function writeMasquerade(dir: string, searchPath = process.env.PATH ?? ''): Promise<string[]> {
  const target = clientProgram();
  const abs = path.resolve(dir);
  mkdirSync(abs, { recursive: true });
  const names = await toolNames(abs, searchPath);
  for (const name of names) {
    const link = path.join(abs, name);
    const st = lstatSync(link, { throwIfNoEntry: false });
    if (st !== undefined && !st.isSymbolicLink()) throw new Error(`${link} exists and is not a link; remove it or choose another directory for --masquerade`);
    if (st !== undefined && readlinkSync(link) === target) continue;
    const temp = `${link}.distbuild-${process.pid}`;
    symlinkSync(target, temp);
    renameSync(temp, link);
  }
  return names;
}
