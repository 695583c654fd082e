// Counts the agent's cache lookups until they are reported to the server.
import type { CacheReport } from '../protocol/messages.js';

export interface CacheStats {
  record(hit: boolean, ms: number): void;
  /** What was counted since the last take, or undefined if nothing was. */
  take(): CacheReport | undefined;
}

/** Most hit durations one report carries; beyond them only the counts grow. */
export const MAX_DURATIONS = 4096;

/** Two reports' counts as one (for counts that waited for a stream). */
export function mergeCacheReports(a: CacheReport, b: CacheReport): CacheReport {
  return { hits: a.hits + b.hits, misses: a.misses + b.misses, hitMicros: [...a.hitMicros, ...b.hitMicros].slice(0, MAX_DURATIONS) };
}

export function createCacheStats(): CacheStats {
  let hits = 0;
  let misses = 0;
  let hitMicros: number[] = [];
  return {
    record(hit, ms) {
      if (!hit) {
        misses++;
        return;
      }
      hits++;
      if (hitMicros.length < MAX_DURATIONS) hitMicros.push(Math.round(ms * 1000));
    },
    take() {
      if (hits === 0 && misses === 0) return undefined;
      const report: CacheReport = { hits, misses, hitMicros };
      hits = 0;
      misses = 0;
      hitMicros = [];
      return report;
    },
  };
}
