// Chooses the worker for an arriving job: the free worker with the best directory overlap.
//
// Cost is O(job dirs): each of the job's first MAX_DIRS directories looks at no more than
// MAX_PER_DIR workers of the locality index. Ties and jobs that overlap nobody go by
// power of two choices on load; links go only to link-capable workers and, among the
// workers with locality, to the one with the most free memory.
import type { JobRecord } from './job-record.js';
import type { LocalityIndex } from './locality-index.js';
import { lessLoadedOfTwo, type WorkerPool } from './worker-pool.js';
import { freeSlots, type WorkerSession } from './worker-session.js';

const MAX_DIRS = 16;
const MAX_PER_DIR = 32;

/** Weight of the job's i-th directory: its source directory counts most. */
const weight = (i: number): number => (i === 0 ? 4 : i === 1 ? 2 : 1);

export function chooseWorker(record: JobRecord, pool: WorkerPool, index: LocalityIndex): WorkerSession | undefined {
  const link = record.job.kind === 'JOB_KIND_LINK';
  if (pool.freeCount(link) === 0) return undefined;
  // A retry avoids the workers it failed on, unless they are all there is.
  if (record.avoid.size > 0 && pool.eligibleCount(link) > record.avoid.size) {
    return pool.pickTwoChoices(link, record.avoid);
  }
  const scores = new Map<WorkerSession, number>();
  const dirs = record.job.dirs;
  for (let i = 0; i < dirs.length && i < MAX_DIRS; i++) {
    const workers = index.workersIn(dirs[i] ?? '');
    if (workers === undefined) continue;
    let seen = 0;
    for (const w of workers) {
      if (++seen > MAX_PER_DIR) break;
      if (freeSlots(w) === 0 || (link && !w.registration.canLink)) continue;
      scores.set(w, (scores.get(w) ?? 0) + weight(i));
    }
  }
  if (scores.size === 0) return pool.pickTwoChoices(link);
  if (link) return [...scores.keys()].reduce((a, b) => (b.memoryFreeBytes > a.memoryFreeBytes ? b : a));
  let bestScore = 0;
  let tied: WorkerSession[] = [];
  for (const [w, score] of scores) {
    if (score > bestScore) {
      bestScore = score;
      tied = [w];
    } else if (score === bestScore) {
      tied.push(w);
    }
  }
  return lessLoadedOfTwo(tied);
}
