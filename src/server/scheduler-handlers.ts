// The Scheduler service's handlers: they translate RPCs into scheduler calls.
import { randomUUID } from 'node:crypto';
import { ServerError, Status, type CallContext } from 'nice-grpc';
import { createChannel } from '../common/channel.js';
import type { Logger } from '../common/logger.js';
import {
  PROTOCOL_VERSION,
  type JobResult,
  type ServerMessage,
  type StatusReply,
  type SubmitJobsRequest,
  type SubmitJobsResponse,
  type WorkerMessage,
} from '../protocol/messages.js';
import { clientHost, type ClientLimiter } from './client-limiter.js';
import type { Scheduler } from './scheduler.js';
import { statusSnapshot } from './status-snapshot.js';
import { batchRefusal, createJobsStreamHandler } from './jobs-stream.js';
import { createWorkStreamHandler } from './work-stream.js';

export interface HandlerOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly leaseMs: number;
  /** Jobs accepted per SubmitJobs call. */
  readonly maxBatch: number;
  /** The server's lifecycle state, for status and for refusing work while draining. */
  readonly lifecycle: () => 'running' | 'draining' | 'stopped';
  readonly startedAt: number;
  /** Jobs in flight per client address (max_jobs_per_client). */
  readonly limiter: ClientLimiter;
}

export function createSchedulerHandlers(options: HandlerOptions) {
  const { scheduler, logger } = options;

  async function* submitJobs(request: SubmitJobsRequest, context: CallContext): AsyncGenerator<SubmitJobsResponse> {
    const client = clientHost(context.peer);
    const refusal = batchRefusal(request, client, { scheduler, logger, maxBatch: options.maxBatch, lifecycle: options.lifecycle, limiter: options.limiter });
    if (refusal !== undefined) throw new ServerError(refusal.code, refusal.message);
    let held = request.jobs.length;
    const results = createChannel<JobResult>(context.signal);
    const records = request.jobs.map((job) => scheduler.submit(job));
    const unsubscribe = records.map((r) => scheduler.onResult(r, (result) => results.push(result)));
    try {
      yield { msg: 'accepted', accepted: { jobIds: records.map((r) => r.job.id) } };
      let remaining = records.length;
      for await (const result of results) {
        options.limiter.release(client, 1);
        held--;
        yield { msg: 'result', result };
        if (--remaining === 0) break;
      }
    } finally {
      options.limiter.release(client, held);
      for (const u of unsubscribe) u();
      for (const r of records) scheduler.cancelIfUnwanted(r);
    }
  }

  async function getStatus(): Promise<StatusReply> {
    return statusSnapshot(scheduler, options.lifecycle(), options.startedAt);
  }

  const jobs = createJobsStreamHandler({ scheduler, logger, maxBatch: options.maxBatch, lifecycle: options.lifecycle, limiter: options.limiter });
  const work = createWorkStreamHandler({ scheduler, logger, leaseMs: options.leaseMs, lifecycle: options.lifecycle });
  return { submitJobs, jobs, work, getStatus };
}
