// Content hashes of files, remembered while a file's device, inode, size, mtime and ctime stay the same.
import { createHash } from 'node:crypto';
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
}

const CLOCK_MACROS = ['__DATE__', '__TIME__', '__TIMESTAMP__'];

/** A cache of up to `max` files' hashes (cleared when full). */
export function createFileHashes(max = 50_000): FileHashes {
  const cache = new Map<string, { readonly stamp: string; readonly value: FileHash }>();
  return {
    async of(file) {
      let st;
      try {
        st = await stat(file, { bigint: true });
      } catch (err) {
        if (errnoCode(err) === undefined) throw err;
        return undefined; // ENOENT, EACCES, ENOTDIR…: not there to hash
      }
      if (!st.isFile()) return undefined;
      const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
      const known = cache.get(file);
      if (known?.stamp === stamp) return known.value;
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        if (errnoCode(err) === undefined) throw err;
        return undefined;
      }
      const changed = st.mtimeNs > st.ctimeNs ? st.mtimeNs : st.ctimeNs;
      const value: FileHash = {
        hash: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        changedMs: Number(changed / 1_000_000n),
        usesClock: CLOCK_MACROS.some((m) => bytes.includes(m)),
      };
      // A file read while it was being written is not remembered: the next call reads it again.
      if (BigInt(bytes.length) === st.size) {
        if (cache.size >= max) cache.clear();
        cache.set(file, { stamp, value });
      }
      return value;
    },
  };
}
