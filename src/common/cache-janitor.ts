// The cache's janitor: its size, trimming it to a limit (least recently used first), and clearing it.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeCacheFile } from './cache-files.js';
import { errnoCode } from './errno.js';

export interface CacheUsage {
  readonly entries: number;
  readonly manifests: number;
  readonly bytes: number;
}

interface CacheFile {
  readonly path: string;
  readonly kind: 'entry' | 'manifest' | 'temp';
  readonly size: number;
  /** Hits set an entry's mtime: the least recently used is the oldest. */
  readonly mtimeMs: number;
}

/** Temporary files older than this are left over from a writer that died. */
const STALE_TEMP_MS = 60 * 60_000;

const SHARD = /^[0-9a-f]{2}$/;

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/** Every file in the cache's shards (a missing cache is an empty one). */
async function listCache(dir: string): Promise<CacheFile[]> {
  const files: CacheFile[] = [];
  for (const shard of (await listOrEmpty(dir)).filter((s) => SHARD.test(s))) {
    for (const name of await listOrEmpty(path.join(dir, shard))) {
      const kind = name.endsWith('.entry') ? 'entry' : name.endsWith('.manifest') ? 'manifest' : name.endsWith('.tmp') ? 'temp' : undefined;
      if (kind === undefined) continue;
      const file = path.join(dir, shard, name);
      try {
        const st = await stat(file);
        files.push({ path: file, kind, size: st.size, mtimeMs: st.mtimeMs });
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err; // removed meanwhile
      }
    }
  }
  return files;
}

const usageOf = (files: readonly CacheFile[]): CacheUsage => ({
  entries: files.filter((f) => f.kind === 'entry').length,
  manifests: files.filter((f) => f.kind === 'manifest').length,
  bytes: files.reduce((n, f) => n + f.size, 0),
});

export async function cacheUsage(dir: string): Promise<CacheUsage> {
  return usageOf(await listCache(dir));
}

export interface TrimResult {
  readonly removed: number;
  readonly freedBytes: number;
  readonly usage: CacheUsage;
}

/**
 * Removes stale temporary files, then the least recently used entries until the cache holds at
 * most `maxBytes`; manifests go only if entries alone cannot make room (a manifest whose entry is
 * gone is a miss). Nothing on a compile's path waits for this.
 */
export async function trimCache(dir: string, maxBytes: number, now = Date.now()): Promise<TrimResult> {
  const files = await listCache(dir);
  const kept = new Set(files);
  let removed = 0;
  let freed = 0;
  const remove = async (f: CacheFile): Promise<void> => {
    await removeCacheFile(f.path);
    kept.delete(f);
    removed += f.kind === 'entry' ? 1 : 0;
    freed += f.size;
  };
  for (const f of files) if (f.kind === 'temp' && now - f.mtimeMs > STALE_TEMP_MS) await remove(f);
  let total = usageOf([...kept]).bytes;
  const byAge = (kind: CacheFile['kind']): CacheFile[] => [...kept].filter((f) => f.kind === kind).sort((x, y) => x.mtimeMs - y.mtimeMs);
  for (const kind of ['entry', 'manifest'] as const) {
    for (const f of byAge(kind)) {
      if (total <= maxBytes) break;
      await remove(f);
      total -= f.size;
    }
  }
  return { removed, freedBytes: freed, usage: usageOf([...kept]) };
}

/** Removes every entry and manifest; returns how many files went. */
export async function clearCache(dir: string): Promise<number> {
  const files = await listCache(dir);
  for (const f of files) await removeCacheFile(f.path);
  return files.length;
}
