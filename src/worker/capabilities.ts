// Finds the compilers a worker has, with their versions, and its memory.
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { createCompilerIdentities } from '../common/compiler-identity.js';
import path from 'node:path';
import { execa } from 'execa';
import { errnoCode } from '../common/errno.js';
import type { Compiler } from '../protocol/messages.js';

export const DEFAULT_COMPILER_NAMES = ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++'] as const;

/** The absolute path of executable `name` on PATH, or undefined. */
export function whichSync(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? path.resolve(name) : undefined;
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return false; // ENOENT, EACCES, ENOTDIR, ELOOP…: not an executable here
  }
}

/** The compilers among `names` found on PATH, with the first line of `--version`. */
/** Identities as clients compute them (common/compiler-identity.ts). */
const identities = createCompilerIdentities();

export async function findCompilers(names: readonly string[] = DEFAULT_COMPILER_NAMES): Promise<Compiler[]> {
  const found = await Promise.all(
    names.map(async (name): Promise<Compiler | undefined> => {
      const where = whichSync(name);
      if (where === undefined) return undefined;
      const real = realpathSync(where);
      const [result, identity] = await Promise.all([execa(where, ['--version'], { reject: false, timeout: 10_000, stdin: 'ignore' }), identities.of(real)]);
      const version = String(result.stdout).split('\n')[0]?.trim() ?? '';
      const sha256 = createHash('sha256').update(await readFile(real)).digest('hex');
      return { name, path: real, version, identity, sha256, foundAt: where };
    }),
  );
  return found.filter((c): c is Compiler => c !== undefined);
}

export function memoryBytes(): { total: number; free: number } {
  return { total: os.totalmem(), free: os.freemem() };
}

let freeSample = { at: -Infinity, bytes: 0 };

/** Memory available now, read at most once a second (it reads /proc/meminfo): reported with each result. */
export function freeMemoryBytes(): number {
  const now = performance.now();
  if (now - freeSample.at >= 1000) freeSample = { at: now, bytes: os.freemem() };
  return freeSample.bytes;
}
