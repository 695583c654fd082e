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
import { createWorkerSession } from './worker-session.js';

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

  async function* work(requests: AsyncIterable<WorkerMessage>, context: CallContext): AsyncGenerator<ServerMessage> {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done === true) return;
    if (first.value.msg !== 'register') {
      throw new ServerError(Status.FAILED_PRECONDITION, `a worker's first message must be "register", not "${first.value.msg}"`);
    }
    const registration = first.value.register;
    if (registration.name === '' || registration.maxJobs < 1) {
      throw new ServerError(Status.INVALID_ARGUMENT, `invalid worker registration: name "${registration.name}", max_jobs ${registration.maxJobs}`);
    }
    if (options.lifecycle() !== 'running') throw new ServerError(Status.UNAVAILABLE, 'the server is shutting down');
    const outbox = createChannel<ServerMessage>(context.signal);
    const session = createWorkerSession(randomUUID(), context.peer, registration, outbox);
    outbox.push({ msg: 'registered', registered: { workerId: session.id, leaseMs: options.leaseMs, protocolVersion: PROTOCOL_VERSION } });
    scheduler.addWorker(session);
    let reason = 'its stream closed';
    const reading = (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        const m = next.value;
        switch (m.msg) {
          case 'result':
            scheduler.attemptResult(session, m.result);
            break;
          case 'update':
            if (m.update.state === 'WORKER_STATE_DRAINING') session.state = 'draining';
            if (m.update.maxJobs > 0) session.maxJobs = m.update.maxJobs;
            scheduler.workerChanged(session);
            break;
          case 'dirs':
            scheduler.dirReport(session, m.dirs);
            break;
          case 'renew':
            scheduler.renewLeases(session, m.renew.attemptIds);
            break;
          default:
            logger.warn(`worker ${session.name} sent an unexpected message "${m.msg}"`);
        }
      }
    })().then(
      () => undefined,
      (err: unknown) => {
        reason = `its stream failed: ${(err as Error).message}`;
      },
    ).finally(() => outbox.close());
    try {
      yield* outbox;
    } finally {
      scheduler.removeWorker(session, context.signal.aborted ? 'it disconnected' : reason);
      void reading;
    }
  }

  async function getStatus(): Promise<StatusReply> {
    return statusSnapshot(scheduler, options.lifecycle(), options.startedAt);
  }

  const jobs = createJobsStreamHandler({ scheduler, logger, maxBatch: options.maxBatch, lifecycle: options.lifecycle, limiter: options.limiter });
  return { submitJobs, jobs, work, getStatus };
}
