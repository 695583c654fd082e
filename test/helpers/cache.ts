// The result cache's entries on disk, for tests and the bench: counting them and waiting for the workers' stores.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Every entry file in the cache at `dir` (none if it does not exist). */
export function cacheEntries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const shard of readdirSync(dir, { withFileTypes: true })) {
    if (!shard.isDirectory()) continue;
    for (const f of readdirSync(path.join(dir, shard.name))) if (f.endsWith('.entry')) out.push(path.join(dir, shard.name, f));
  }
  return out;
}

/** Waits until the cache holds at least `n` entries (stores follow the results), or `timeoutMs` passes; resolves to how many it holds. */
export async function waitForEntries(dir: string, n: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = cacheEntries(dir).length;
    if (have >= n || Date.now() > deadline) return have;
    await new Promise((r) => setTimeout(r, 100));
  }
}
