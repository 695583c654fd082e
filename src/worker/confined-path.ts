// Where a path a command writes really lands: symlinks followed before each `..`, as the kernel does.
import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import { isUnder } from '../common/mount-path.js';

export type ConfinedPath =
  /** The real path it lands at, inside the mount (its directory fully resolved; the file may not exist yet). */
  | { readonly type: 'inside'; readonly real: string }
  | { readonly type: 'outside'; readonly real: string }
  /** Its directory is not there (yet: NFS shows other hosts' new directories late). */
  | { readonly type: 'missing-dir' }
  | { readonly type: 'invalid'; readonly why: string };

/**
 * Resolves `written` (absolute, or relative to `realCwd`) without normalising its text first:
 * `out/../../x.o` with `out` a symlink is resolved through `out`'s target, as the compiler's
 * open(2) would. A final component that is a symlink is followed too (or refused when dangling),
 * since a tool that writes in place opens through it.
 */
export async function confinedPath(written: string, realCwd: string, realMount: string): Promise<ConfinedPath> {
  const abs = written.startsWith('/') ? written : `${realCwd}/${written}`;
  const slash = abs.lastIndexOf('/');
  const base = abs.slice(slash + 1);
  // lstat first: a new output (the common case) then costs one failed call, not two.
  const link = await lstatOrUndefined(abs);
  if (link !== undefined) {
    const existing = await realpathOrUndefined(abs);
    if (existing === undefined) return { type: 'invalid', why: link.isSymbolicLink() ? 'is a symlink to a file that does not exist' : 'cannot be resolved' };
    return judge(existing, realMount);
  }
  if (base === '' || base === '.' || base === '..') return { type: 'invalid', why: 'does not name a file' };
  const realDir = await realpathOrUndefined(abs.slice(0, slash) || '/');
  if (realDir === undefined) return { type: 'missing-dir' };
  return judge(realDir === '/' ? `/${base}` : `${realDir}/${base}`, realMount);
}

function judge(real: string, realMount: string): ConfinedPath {
  return isUnder(real, realMount) && real !== realMount ? { type: 'inside', real } : { type: 'outside', real };
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return undefined;
  }
}

async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await realpath(p);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === undefined) throw err;
    return undefined; // ELOOP, EACCES…: treated as not there; the caller refuses what it cannot resolve
  }
}
