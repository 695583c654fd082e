// Finding executables without blocking: a regular file with an execute bit, by path or on a PATH.
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from './errno.js';

/** A regular file with an execute bit (the exec itself has the last word). */
export const isExecutableStat = (st: Stats): boolean => st.isFile() && (st.mode & 0o111) !== 0;

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    return isExecutableStat(await stat(file));
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return false; // ENOENT, EACCES, ENOTDIR, ELOOP…: not an executable here
  }
}

/** The absolute path of the executable `name` names: a path (relative to `cwd`), or the first on `searchPath`. */
export async function which(name: string, cwd: string, searchPath: string): Promise<string | undefined> {
  if (name.includes('/')) {
    const file = path.resolve(cwd, name);
    return (await isExecutableFile(file)) ? file : undefined;
  }
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The real path of the executable `name` names (see which), or undefined. */
export async function realExecutable(name: string, cwd: string, searchPath: string): Promise<string | undefined> {
  const found = await which(name, cwd, searchPath);
  if (found === undefined) return undefined;
  try {
    return await realpath(found);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return undefined; // vanished between the search and here
  }
}
