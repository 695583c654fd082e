// `distbuild cache stats | trim | clear`: the shared cache's size, trimming it to cache_max_size, emptying it.
import { cacheUsage, clearCache, trimCache } from '../common/cache-janitor.js';
import type { Settings } from '../config/settings.js';

export const CACHE_VERBS = ['stats', 'trim', 'clear'] as const;
export type CacheVerb = (typeof CACHE_VERBS)[number];

export const isCacheVerb = (v: string | undefined): v is CacheVerb => CACHE_VERBS.some((x) => x === v);

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export async function cacheCommand(verb: CacheVerb, settings: Settings): Promise<number> {
  const dir = settings.cacheDir;
  switch (verb) {
    case 'stats': {
      const usage = await cacheUsage(dir);
      const limit = settings.cacheMaxSizeBytes;
      if (settings.json) process.stdout.write(`${JSON.stringify({ dir, ...usage, maxBytes: limit })}\n`);
      else process.stdout.write(`cache ${dir}: ${usage.entries} entries, ${usage.manifests} manifests, ${mib(usage.bytes)} of ${mib(limit)} (cache_max_size)\n`);
      return 0;
    }
    case 'trim': {
      const r = await trimCache(dir, settings.cacheMaxSizeBytes);
      process.stdout.write(`cache ${dir}: removed ${r.removed} entries (${mib(r.freedBytes)}); ${r.usage.entries} entries, ${mib(r.usage.bytes)} remain (cache_max_size ${mib(settings.cacheMaxSizeBytes)})\n`);
      return 0;
    }
    case 'clear': {
      const n = await clearCache(dir);
      process.stdout.write(`cache ${dir}: removed ${n} files\n`);
      return 0;
    }
  }
}
