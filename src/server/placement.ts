// Chooses the worker for a job: the least loaded eligible worker with a free slot.
import type { JobRecord } from './job-record.js';
import { freeSlots, type WorkerSession } from './worker-session.js';

export function chooseWorker(workers: Iterable<WorkerSession>, record: JobRecord): WorkerSession | undefined {
  const isLink = record.job.kind === 'JOB_KIND_LINK';
  let best: WorkerSession | undefined;
  let bestLoad = Infinity;
  for (const w of workers) {
    if (freeSlots(w) === 0) continue;
    if (isLink && !w.registration.canLink) continue;
    const load = w.running.size / w.maxJobs;
    // Links prefer memory; everything else prefers the least loaded worker.
    const score = isLink ? load - w.memoryFreeBytes / 1e15 : load;
    if (score < bestLoad) {
      best = w;
      bestLoad = score;
    }
  }
  return best;
}
