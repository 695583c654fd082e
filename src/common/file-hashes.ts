// Content hashes of files, remembered while a file's device, inode, size, mtime and ctime stay the same (to the microsecond).
import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { errnoCode } from './errno.js';

export interface FileHash {
  readonly hash: string;
  readonly size: number;
  /** The later of mtime and ctime, in ms: a file changed during a compile is not recorded. */
  readonly changedMs: number;
  /** The file uses __DATE__, __TIME__ or __TIMESTAMP__: its compile's output depends on the clock. */
  readonly usesClock: boolean;
}

export interface FileHashes {
  /** The file's hash, or undefined if it cannot be read (missing, not a file…). */
  of(file: string): Promise<FileHash | undefined>;
  /** The hash remembered for the file as it is now (one synchronous stat), or undefined: then ask of(). */
  cached(file: string): FileHash | undefined;
}

const CLOCK_MACROS = ['__DATE__', '__TIME__', '__TIMESTAMP__'].map((m) => Buffer.from(m));
const QUOTE = 0x22;

/**
 * True if the text may expand __DATE__, __TIME__ or __TIMESTAMP__: any occurrence counts (in a
 * comment too), except the macro's name alone in a string literal ("__DATE__", as a preprocessor
 * written in C names it).
 */
export function usesClockMacros(bytes: Buffer): boolean {
  for (const m of CLOCK_MACROS) {
    for (let at = bytes.indexOf(m); at !== -1; at = bytes.indexOf(m, at + m.length)) {
      if (!(bytes[at - 1] === QUOTE && bytes[at + m.length] === QUOTE)) return true;
    }
  }
  return false;
}

export interface FileHashesOptions {
  /** Most files remembered (the cache is cleared when full). */
  readonly max?: number;
  /**
   * Stat synchronously: a few microseconds instead of a thread-pool round trip, for the agent,
   * whose cache hits stat every header. Never on a server's or worker's event loop.
   */
  readonly syncStat?: boolean;
}

/** What identifies a file's version: its device, inode, size, mtime and ctime. */
interface Stamp {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

const sameStamp = (a: Stamp, b: Stamp): boolean =>
  a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.dev === b.dev;

const missing = (err: unknown): undefined => {
  if (errnoCode(err) === undefined) throw err;
  return undefined; // ENOENT, EACCES, ENOTDIR…: not there to hash
};

function statNow(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    return missing(err);
  }
}

export function createFileHashes({ max = 50_000, syncStat = false }: FileHashesOptions = {}): FileHashes {
  const cache = new Map<string, { readonly stamp: Stamp; readonly value: FileHash }>();
  const known = (file: string, st: Stats): FileHash | undefined => {
    const entry = cache.get(file);
    return entry !== undefined && sameStamp(entry.stamp, st) ? entry.value : undefined;
  };
  return {
    cached(file) {
      const st = statNow(file);
      return st === undefined || !st.isFile() ? undefined : known(file, st);
    },
    async of(file) {
      const st = syncStat ? statNow(file) : await stat(file).catch(missing);
      if (st === undefined || !st.isFile()) return undefined;
      const hit = known(file, st);
      if (hit !== undefined) return hit;
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        if (errnoCode(err) === undefined) throw err;
        return undefined;
      }
      const stamp: Stamp = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      const value: FileHash = {
        hash: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        changedMs: Math.max(st.mtimeMs, st.ctimeMs),
        usesClock: usesClockMacros(bytes),
      };
      // A file read while it was being written is not remembered: the next call reads it again.
      if (bytes.length === st.size) {
        if (cache.size >= max) cache.clear();
        cache.set(file, { stamp, value });
      }
      return value;
    },
  };
}
