// The Jobs stream: one client's batches and cancellations in, results (and refusals) out, for as long as it lasts.
import { Status, type CallContext } from 'nice-grpc';
import { coalesce, createChannel } from '../common/channel.js';
import type { Logger } from '../common/logger.js';
import type { JobResult, JobsRequest, JobsResponse, SubmitJobsRequest } from '../protocol/messages.js';
import { clientHost, type ClientLimiter } from './client-limiter.js';
import type { JobRecord } from './job-record.js';
import type { Scheduler } from './scheduler.js';

export interface JobsStreamOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Jobs accepted per batch. */
  readonly maxBatch: number;
  readonly lifecycle: () => 'running' | 'draining' | 'stopped';
  readonly limiter: ClientLimiter;
}

/** Why a batch is refused, as a status code and a message naming the fix; undefined: take it. */
export function batchRefusal(request: SubmitJobsRequest, client: string, options: JobsStreamOptions): { code: Status; message: string } | undefined {
  if (options.lifecycle() !== 'running') return { code: Status.UNAVAILABLE, message: 'the server is shutting down; submit to it again once it is back' };
  if (request.jobs.length === 0) return { code: Status.INVALID_ARGUMENT, message: 'a batch needs at least one job' };
  if (request.jobs.length > options.maxBatch) {
    return { code: Status.INVALID_ARGUMENT, message: `a batch of ${request.jobs.length} jobs exceeds the server's limit of ${options.maxBatch}` };
  }
  if (!options.limiter.tryAcquire(client, request.jobs.length)) {
    return {
      code: Status.RESOURCE_EXHAUSTED,
      message: `client ${client} has ${options.limiter.inFlight(client)} jobs in flight; ${request.jobs.length} more would exceed the server's limit of ${options.limiter.max} (setting max_jobs_per_client)`,
    };
  }
  return undefined;
}

export function createJobsStreamHandler(options: JobsStreamOptions) {
  const { scheduler } = options;
  let streams = 0;
  return async function* jobs(requests: AsyncIterable<JobsRequest>, context: CallContext): AsyncGenerator<JobsResponse> {
    const client = clientHost(context.peer);
    // One stream is one agent, that is one developer on one host: the unit of fair share.
    const share = `${client}#${++streams}`;
    const out = createChannel<JobsResponse>(context.signal);
    /** This stream's unfinished jobs: their records and how to stop listening. */
    const open = new Map<string, { readonly record: JobRecord; unsubscribe: () => void }>();
    let reading = true;
    const closeIfDone = (): void => {
      if (!reading && open.size === 0) out.close();
    };
    const onResult = (result: JobResult): void => {
      if (!open.delete(result.jobId)) return;
      options.limiter.release(client, 1);
      out.push({ msg: 'result', result });
      closeIfDone();
    };
    const submit = (request: SubmitJobsRequest): void => {
      const ids = request.jobs.map((j) => j.id);
      const refusal = batchRefusal(request, client, options);
      if (refusal !== undefined) {
        out.push({ msg: 'refused', refused: { jobIds: ids, code: refusal.code, message: refusal.message } });
        return;
      }
      for (const job of request.jobs) {
        if (open.has(job.id)) {
          options.limiter.release(client, 1); // already followed on this stream (a duplicate id)
          continue;
        }
        const entry = { record: scheduler.submit(job, share), unsubscribe: (): void => undefined };
        open.set(job.id, entry);
        // A job that already finished (a resubmission) answers at once, and leaves `open` again.
        entry.unsubscribe = scheduler.onResult(entry.record, onResult);
      }
    };
    const cancel = (ids: readonly string[]): void => {
      for (const id of ids) {
        const entry = open.get(id);
        if (entry === undefined) continue;
        open.delete(id);
        options.limiter.release(client, 1);
        entry.unsubscribe();
        scheduler.cancel(entry.record);
      }
      closeIfDone();
    };
    const reader = (async () => {
      for await (const m of requests) {
        if (m.msg === 'submit') submit(m.submit);
        else if (m.msg === 'cancel') cancel(m.cancel.jobIds);
        else if (m.msg === 'cache') scheduler.cacheReport(m.cache);
      }
    })().then(
      () => {
        reading = false; // the client half-closed: finish what it submitted, then end
        closeIfDone();
      },
      (err: unknown) => {
        options.logger.debug(`jobs stream from ${client} failed: ${err instanceof Error ? err.message : String(err)}`);
        out.close();
      },
    );
    try {
      yield* coalesce(out, (messages) => ({ msg: 'batch', batch: { messages } }));
    } finally {
      for (const { record, unsubscribe } of open.values()) {
        unsubscribe();
        options.limiter.release(client, 1);
        scheduler.cancelIfUnwanted(record);
      }
      open.clear();
      void reader;
    }
  };
}
