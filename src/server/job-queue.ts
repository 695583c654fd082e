// The queue of jobs waiting for a worker: links first, then retries, then compiles by age or locality.
import type { JobRecord } from './job-record.js';
import type { LocalityIndex } from './locality-index.js';
import type { WorkerSession } from './worker-session.js';

/** How many queued directories a free worker looks through for one that no worker is warm in. */
const COLD_SCAN = 256;
/** How many of the oldest queued directories a free worker checks against its reported ones. */
const WARM_SCAN = 8;

export interface JobQueue {
  push(record: JobRecord, retry: boolean): void;
  remove(record: JobRecord): boolean;
  readonly size: number;
  /**
   * The job a free worker should take next: the oldest link (if it links); else the oldest retry;
   * else the oldest compile if younger jobs have been taken over it for `maxDelayMs` (the bound on
   * locality's reordering); else a compile in one of the worker's warm directories; else one in a
   * directory no worker is warm for; else the oldest compile.
   */
  pickFor(worker: WorkerSession, index: LocalityIndex, now: number, maxDelayMs: number, othersCanRun: (r: JobRecord) => boolean): JobRecord | undefined;
  /** Every queued job. */
  all(): JobRecord[];
  /** Queued jobs that have waited longer than `timeoutMs`. */
  expired(now: number, timeoutMs: number): JobRecord[];
}

const first = <T>(set: Set<T>): T | undefined => set.values().next().value;

export function primaryDir(record: JobRecord): string | undefined {
  return record.job.dirs[0];
}

export function createJobQueue(): JobQueue {
  const links = new Set<JobRecord>();
  const retries = new Set<JobRecord>();
  const compiles = new Set<JobRecord>();
  /** Queued compiles by primary directory, oldest first. */
  const byDir = new Map<string, Set<JobRecord>>();

  const unindex = (r: JobRecord): void => {
    const dir = primaryDir(r);
    if (dir === undefined) return;
    const set = byDir.get(dir);
    set?.delete(r);
    if (set?.size === 0) byDir.delete(dir);
  };
  const take = (r: JobRecord | undefined): JobRecord | undefined => {
    if (r !== undefined) remove(r);
    return r;
  };
  function remove(r: JobRecord): boolean {
    const had = links.delete(r) || retries.delete(r) || compiles.delete(r);
    if (had && r.job.kind !== 'JOB_KIND_LINK') unindex(r);
    return had;
  }


  /** A compile in one of the worker's warm directories, else one no worker is warm for, else the head. */
  function pickByLocality(worker: WorkerSession, index: LocalityIndex, head: JobRecord): JobRecord {
    // Warm: the directories of its latest jobs first, newest first; then the oldest queued
    // directories it reported. Both scans are bounded, so a pick costs O(1) in farm size.
    const recent = index.recentOf(worker);
    for (let i = recent.length - 1; i >= 0; i--) {
      const set = byDir.get(recent[i] ?? '');
      const r = set === undefined ? undefined : first(set);
      if (r !== undefined) return r;
    }
    let warmScanned = 0;
    for (const [dir, set] of byDir) {
      if (++warmScanned > WARM_SCAN) break;
      const r = first(set);
      if (r !== undefined && index.has(worker, dir)) return r;
    }
    // Cold: a directory nobody is warm in costs every worker the same. Queued directories
    // are in queue order, so this finds the oldest such job.
    let scanned = 0;
    for (const [dir, set] of byDir) {
      if (++scanned > COLD_SCAN) break;
      const r = first(set);
      if (r !== undefined && (index.workersIn(dir)?.size ?? 0) === 0) return r;
    }
    return head;
  }

  return {
    push(r, retry) {
      if (r.job.kind === 'JOB_KIND_LINK') {
        links.add(r);
        return;
      }
      if (retry) {
        // Not indexed by directory: a pick by locality must never hand a retry to a worker it avoids.
        retries.add(r);
        return;
      }
      compiles.add(r);
      const dir = primaryDir(r);
      if (dir === undefined) return;
      let set = byDir.get(dir);
      if (set === undefined) {
        set = new Set();
        byDir.set(dir, set);
      }
      set.add(r);
    },
    remove,
    get size() {
      return links.size + retries.size + compiles.size;
    },
    pickFor(worker, index, now, maxDelayMs, othersCanRun) {
      // A link or a retry avoids the workers it failed on (or whose compiler is not the
      // client's), unless no other worker could take it.
      if (worker.registration.canLink) for (const r of links) if (!r.avoid.has(worker.id) || !othersCanRun(r)) return take(r);
      for (const r of retries) if (!r.avoid.has(worker.id) || !othersCanRun(r)) return take(r);
      const head = first(compiles);
      if (head === undefined) return undefined;
      // The bound: the oldest job is passed over for locality for at most maxDelayMs.
      if (maxDelayMs <= 0 || (head.passedOverAt !== undefined && now - head.passedOverAt >= maxDelayMs)) return take(head);
      const pick = pickByLocality(worker, index, head);
      if (pick !== head) head.passedOverAt ??= now;
      return take(pick);
    },
    all: () => [...links, ...retries, ...compiles],
    expired(now, timeoutMs) {
      const out: JobRecord[] = [];
      for (const set of [links, retries, compiles]) {
        for (const r of set) {
          if (now - r.queuedAt <= timeoutMs) break; // sets are in queue order
          out.push(r);
        }
      }
      return out;
    },
  };
}
