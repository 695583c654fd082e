// Submits jobs to one server over one long-lived Jobs stream: a lone job leaves at once, a burst leaves in batches.
import { ClientError, Status, createClient, waitForChannelReady } from 'nice-grpc';
import { authCallOptions } from '../common/auth.js';
import { createChannel, type Channel } from '../common/channel.js';
import { createServerChannel, type ServerChannelOptions } from '../common/server-channel.js';
import type { Logger } from '../common/logger.js';
import { mergeCacheReports } from './cache-stats.js';
import { PROTOCOL_VERSION, type CacheReport, type Job, type JobResult, type JobsRequest, type JobsResponse, type Refused } from '../protocol/messages.js';
import { schedulerDefinition } from '../protocol/scheduler-service.js';

export type SubmitOutcome =
  | { readonly type: 'result'; readonly result: JobResult }
  /** The server could not be reached, refused the job, or came back too late: the client may build locally. */
  | { readonly type: 'unreachable'; readonly reason: string };

export interface SubmitterOptions {
  readonly serverAddr: string;
  readonly connectTimeoutMs: number;
  /** After the server was reached once, how long jobs are resubmitted while it is gone (a restart). */
  readonly reconnectTimeoutMs: number;
  /** Most jobs in one batch. */
  readonly batchSize: number;
  /** Longest a job waits for its batch to fill, when the last batch left less than this long ago. */
  readonly batchTimeoutMs: number;
  readonly logger: Logger;
  /** Sent with every RPC. */
  readonly token?: string | undefined;
  /** TLS and the message size cap. */
  readonly channel: ServerChannelOptions;
}

export interface Submitter {
  submit(job: Job, signal: AbortSignal): Promise<SubmitOutcome>;
  /** Sends cache counts on the stream (opening it if need be); counts that cannot be sent are dropped. */
  report(cache: CacheReport): void;
  close(): void;
}

/** Where a job is between its submit() and its outcome. */
type EntryState = 'pending' | 'sent' | 'done';

interface Entry {
  readonly job: Job;
  readonly signal: AbortSignal;
  readonly resolve: (outcome: SubmitOutcome) => void;
  state: EntryState;
  /** When the server was first found unreachable for this job; it gives up a window later. */
  unreachableSince: number | undefined;
}

/** One open Jobs stream: its request queue. */
interface Stream {
  readonly outbox: Channel<JobsRequest>;
}

/** The channel did not become ready within the connect timeout. */
class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError';
}

/** A batch the server would not take. */
class RefusedError extends Error {
  override readonly name = 'RefusedError';
  constructor(readonly refused: Refused) {
    super(refused.message);
  }
}

export function createSubmitter(options: SubmitterOptions): Submitter {
  const { logger } = options;
  const channel = createServerChannel(options.serverAddr, { ...options.channel, keepalive: true });
  const client = createClient(schedulerDefinition(), channel, authCallOptions(options.token));
  const closing = new AbortController();
  const pending: Entry[] = [];
  /** Jobs sent on the current stream, by id, until their result. */
  const sent = new Map<string, Entry>();
  let stream: Stream | undefined;
  let opening = false;
  let timer: NodeJS.Timeout | undefined;
  /** Once the server has been reached, losing it is a restart to ride out, not an absence. */
  let everConnected = false;

  /** When the last batch left: a job arriving within batch_timeout of it waits for its batch to fill. */
  let lastSentAt = -Infinity;
  /** Cache counts waiting for a stream. */
  let unsentReport: CacheReport | undefined;

  function schedule(): void {
    if (pending.length === 0 || closing.signal.aborted) return;
    if (stream === undefined) {
      if (!opening) void open();
      return;
    }
    const wait = lastSentAt + options.batchTimeoutMs - performance.now();
    if (wait <= 0 || pending.length >= options.batchSize) flush(stream);
    else timer ??= setTimeout(() => {
      timer = undefined;
      if (stream !== undefined) flush(stream);
    }, wait);
  }

  /** Sends the pending jobs, in batches of at most batch_size. */
  function flush(s: Stream): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0) {
      const batch = pending.splice(0, options.batchSize).filter((e) => !e.signal.aborted);
      if (batch.length === 0) continue;
      for (const e of batch) {
        e.state = 'sent';
        sent.set(e.job.id, e);
      }
      s.outbox.push({ msg: 'submit', submit: { jobs: batch.map((e) => e.job), protocolVersion: PROTOCOL_VERSION } });
    }
    lastSentAt = performance.now();
  }

  /** Connects (within the connect timeout) and runs one stream until it ends; its unfinished jobs then go round again. */
  async function open(): Promise<void> {
    opening = true;
    const outbox = createChannel<JobsRequest>();
    const s: Stream = { outbox };
    try {
      try {
        await waitForChannelReady(channel, new Date(Date.now() + options.connectTimeoutMs));
      } catch (err) {
        throw new ConnectTimeoutError(`no answer within ${options.connectTimeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`);
      }
      everConnected = true;
      stream = s;
      opening = false;
      if (unsentReport !== undefined) s.outbox.push({ msg: 'cache', cache: unsentReport });
      unsentReport = undefined;
      schedule();
      for await (const m of client.jobs(outbox, { signal: closing.signal })) {
        if (m.msg === 'batch') for (const inner of m.batch.messages) receive(inner);
        else receive(m);
      }
      throw new Error('the server ended the stream');
    } catch (err) {
      if (closing.signal.aborted) return;
      const lost = [...sent.values()];
      sent.clear();
      retryOrGiveUp(lost, err);
      // Jobs that never left wait for the next stream (or for their own connect timeout).
      retryOrGiveUp(pending.splice(0), err);
    } finally {
      if (stream === s) stream = undefined;
      opening = false;
      outbox.close();
    }
  }

  function receive(m: JobsResponse): void {
    if (m.msg === 'refused') refused(m.refused);
    else if (m.msg === 'result') {
      const entry = sent.get(m.result.jobId);
      if (entry === undefined) return;
      sent.delete(m.result.jobId);
      entry.state = 'done';
      entry.resolve({ type: 'result', result: m.result });
    }
  }

  function refused(r: Refused): void {
    const err = new RefusedError(r);
    const entries: Entry[] = [];
    for (const id of r.jobIds) {
      const e = sent.get(id);
      if (e === undefined) continue;
      sent.delete(id);
      entries.push(e);
    }
    retryOrGiveUp(entries, err);
  }

  /** Jobs whose stream failed are resubmitted (same ids, so idempotent) until the server has been gone too long. */
  function retryOrGiveUp(entries: readonly Entry[], err: unknown): void {
    const now = Date.now();
    const reason = describeError(err, options);
    const windowMs = everConnected ? options.reconnectTimeoutMs : options.connectTimeoutMs;
    for (const e of entries) {
      if (e.signal.aborted || e.state === 'done') continue;
      e.unreachableSince ??= now;
      if (now - e.unreachableSince >= windowMs || isPermanent(err, everConnected)) {
        e.state = 'done';
        e.resolve({ type: 'unreachable', reason });
      } else {
        logger.debug(`resubmitting job ${e.job.id} after: ${reason}`);
        e.state = 'pending';
        setTimeout(() => {
          if (e.signal.aborted || e.state !== 'pending') return;
          pending.push(e);
          schedule();
        }, 200);
      }
    }
  }

  return {
    submit(job, signal) {
      return new Promise((resolve) => {
        const entry: Entry = { job, signal, resolve, state: 'pending', unreachableSince: undefined };
        signal.addEventListener('abort', () => {
          // The client is gone (Ctrl-C, a killed build): cancel the job on the server at once.
          const was = entry.state;
          entry.state = 'done';
          if (was === 'pending') {
            const i = pending.indexOf(entry);
            if (i >= 0) pending.splice(i, 1);
          } else if (was === 'sent' && sent.delete(job.id)) {
            stream?.outbox.push({ msg: 'cancel', cancel: { jobIds: [job.id] } });
          }
        }, { once: true });
        pending.push(entry);
        schedule();
      });
    },
    report(cache) {
      if (stream !== undefined) {
        stream.outbox.push({ msg: 'cache', cache });
        return;
      }
      unsentReport = unsentReport === undefined ? cache : mergeCacheReports(unsentReport, cache);
      if (!opening && !closing.signal.aborted) void open();
    },
    close() {
      closing.abort();
      if (timer !== undefined) clearTimeout(timer);
      stream?.outbox.close();
      channel.close();
    },
  };
}

function isPermanent(err: unknown, everConnected: boolean): boolean {
  // A connect timeout after a server that answered before is a restart to wait for; before, it is an absence.
  if (err instanceof ConnectTimeoutError) return !everConnected;
  // RESOURCE_EXHAUSTED: over max_jobs_per_client or max_message_bytes; the client builds locally rather than wait.
  const permanent = [Status.INVALID_ARGUMENT, Status.UNIMPLEMENTED, Status.UNAUTHENTICATED, Status.PERMISSION_DENIED, Status.RESOURCE_EXHAUSTED];
  if (err instanceof RefusedError) return permanent.includes(err.refused.code);
  return err instanceof ClientError && permanent.includes(err.code);
}

function describeError(err: unknown, options: SubmitterOptions): string {
  if (err instanceof ClientError) return `the server ${options.serverAddr} answered ${Status[err.code]}: ${err.details}`;
  if (err instanceof RefusedError) return `the server ${options.serverAddr} answered ${Status[err.refused.code] ?? err.refused.code}: ${err.refused.message}`;
  if (err instanceof ConnectTimeoutError) {
    return `cannot connect to the server ${options.serverAddr} within the connect timeout of ${options.connectTimeoutMs} ms (setting connect_timeout; is the server running?)`;
  }
  return `lost the server ${options.serverAddr}: ${err instanceof Error ? err.message : String(err)}`;
}
