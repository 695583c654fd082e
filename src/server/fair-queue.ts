// Fair share between clients: one queue per client, and a free slot goes to the client with the fewest jobs running.
//
// Each client (one agent's Jobs stream: one developer) has its own queue, with links first,
// then retries, then compiles by locality, as before. A free worker serves the client that
// holds the fewest of the farm's slots among those with work it can take, the least recently
// served first on a tie; so while two clients both have queued work, each holds half the
// slots, whatever their queue lengths.
import { createJobQueue, type JobQueue } from './job-queue.js';
import type { JobRecord } from './job-record.js';

/** Queued and running jobs of one client. */
export interface ClientShare {
  readonly client: string;
  readonly queued: number;
  readonly running: number;
}

export interface FairQueue extends JobQueue {
  /** Each client with queued or running jobs. */
  shares(): ClientShare[];
  /** A job of this client started running (true) or stopped (false). */
  running(record: JobRecord, started: boolean): void;
}

export function createFairQueue(): FairQueue {
  const queues = new Map<string, JobQueue>();
  const runningBy = new Map<string, number>();
  /** When each client was last served, by a counter: the least recently served wins a tie. */
  const servedAt = new Map<string, number>();
  let served = 0;
  let size = 0;
  const running = (client: string): number => runningBy.get(client) ?? 0;

  const remove = (r: JobRecord): boolean => {
    const q = queues.get(r.client);
    if (q === undefined || !q.remove(r)) return false;
    size--;
    if (q.size === 0) queues.delete(r.client);
    return true;
  };
  return {
    push(r, retry) {
      let q = queues.get(r.client);
      if (q === undefined) {
        q = createJobQueue();
        queues.set(r.client, q);
      }
      q.push(r, retry);
      size++;
    },
    remove,
    get size() {
      return size;
    },
    pickFor(worker, index, now, maxDelayMs, othersCanRun) {
      const candidates = [...queues.entries()];
      if (candidates.length > 1) {
        candidates.sort(([a], [b]) => running(a) - running(b) || (servedAt.get(a) ?? -1) - (servedAt.get(b) ?? -1));
      }
      for (const [client, q] of candidates) {
        const r = q.pickFor(worker, index, now, maxDelayMs, othersCanRun);
        if (r === undefined) continue;
        size--;
        if (q.size === 0) queues.delete(client);
        servedAt.set(client, ++served);
        return r;
      }
      return undefined;
    },
    all: () => [...queues.values()].flatMap((q) => q.all()),
    expired: (now, timeoutMs) => [...queues.values()].flatMap((q) => q.expired(now, timeoutMs)),
    running(r, started) {
      const n = running(r.client) + (started ? 1 : -1);
      if (n > 0) runningBy.set(r.client, n);
      else runningBy.delete(r.client);
      if (n <= 0 && !queues.has(r.client)) servedAt.delete(r.client);
    },
    shares() {
      const clients = new Set([...queues.keys(), ...runningBy.keys()]);
      return [...clients].sort().map((client) => ({ client, queued: queues.get(client)?.size ?? 0, running: running(client) }));
    },
  };
}
