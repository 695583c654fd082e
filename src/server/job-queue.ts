// The queue of jobs waiting for a worker: links first, then retries, then compiles by age or locality.
import type { JobRecord } from './job-record.js';
import type { LocalityIndex } from './locality-index.js';
import type { WorkerSession } from './worker-session.js';

/** How many queued compiles a free worker looks through for one that no other worker is warm for. */
const COLD_SCAN = 64;

export interface JobQueue {
  push(record: JobRecord, retry: boolean): void;
  remove(record: JobRecord): boolean;
  readonly size: number;
  /**
   * The job a free worker should take next: the oldest link (if it links); else the oldest retry;
   * else the oldest compile if it has waited `maxDelayMs`; else a compile in one of the worker's
   * warm directories; else one in a directory no worker is warm for; else the oldest compile.
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

  return {
    push(r, retry) {
      if (r.job.kind === 'JOB_KIND_LINK') {
        links.add(r);
        return;
      }
      (retry ? retries : compiles).add(r);
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
      if (worker.registration.canLink && links.size > 0) return take(first(links));
      // A retry avoids the workers it failed on, unless no other worker could take it.
      for (const r of retries) if (!r.avoid.has(worker.id) || !othersCanRun(r)) return take(r);
      const head = first(compiles);
      if (head === undefined) return undefined;
      if (now - head.queuedAt >= maxDelayMs) return take(head);
      // Warm: look up the smaller of the worker's directories and the queued ones.
      if (index.dirCount(worker) <= byDir.size) {
        for (const dir of index.dirsOf(worker)) {
          const set = byDir.get(dir);
          if (set !== undefined) return take(first(set));
        }
      } else {
        for (const [dir, set] of byDir) if (index.has(worker, dir)) return take(first(set));
      }
      // Cold: a directory nobody is warm for costs every worker the same.
      let scanned = 0;
      for (const r of compiles) {
        if (++scanned > COLD_SCAN) break;
        const dir = primaryDir(r);
        if (dir === undefined || (index.workersIn(dir)?.size ?? 0) === 0) return take(r);
      }
      return take(head);
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
