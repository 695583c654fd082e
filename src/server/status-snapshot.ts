// The server's status snapshot: what GetStatus returns, --status prints and the dashboard shows.
import { distbuildVersion } from '../common/version.js';
import type { StatusReply } from '../protocol/messages.js';
import type { Scheduler } from './scheduler.js';
import { workerStatus } from './worker-session.js';

/** Reads the farm's state now. */
export function statusSnapshot(scheduler: Scheduler, state: string, startedAt: number): StatusReply {
  const now = Date.now();
  return {
    state,
    workers: [...scheduler.workers.values()].map((w) => workerStatus(w, now, scheduler.locality.dirCount(w))),
    queued: scheduler.queuedCount(),
    running: scheduler.runningJobs(now),
    finished: scheduler.finishedJobs(now),
    clients: scheduler.clientShares().map((c) => ({ name: c.client, queued: c.queued, running: c.running })),
    totals: scheduler.totals(),
    uptimeMs: now - startedAt,
    version: distbuildVersion(),
  };
}
