// Submits jobs to one server over one channel: batches what arrives while a send is under way.
import { ClientError, Status, createClient, waitForChannelReady } from 'nice-grpc';
import { authCallOptions } from '../common/auth.js';
import { createServerChannel, type ServerChannelOptions } from '../common/server-channel.js';
import type { Logger } from '../common/logger.js';
import { PROTOCOL_VERSION, type Job, type JobResult } from '../protocol/messages.js';
import { schedulerDefinition } from '../protocol/scheduler-service.js';

export type SubmitOutcome =
  | { readonly type: 'result'; readonly result: JobResult }
  /** The server could not be reached (or came back too late): the launcher may build locally. */
  | { readonly type: 'unreachable'; readonly reason: string };

export interface SubmitterOptions {
  readonly serverAddr: string;
  readonly connectTimeoutMs: number;
  /** After the server was reached once, how long jobs are resubmitted while it is gone (a restart). */
  readonly reconnectTimeoutMs: number;
  /** Most jobs in one SubmitJobs call. */
  readonly batchSize: number;
  /** Longest a job waits for its batch to fill while another send is under way. */
  readonly batchTimeoutMs: number;
  readonly logger: Logger;
  /** Sent with every RPC. */
  readonly token?: string | undefined;
  /** TLS and the message size cap. */
  readonly channel: ServerChannelOptions;
}

export interface Submitter {
  submit(job: Job, signal: AbortSignal): Promise<SubmitOutcome>;
  close(): void;
}

interface Entry {
  readonly job: Job;
  readonly signal: AbortSignal;
  readonly resolve: (outcome: SubmitOutcome) => void;
  /** When the server was first found unreachable for this job; it gives up connectTimeoutMs later. */
  unreachableSince: number | undefined;
}

export function createSubmitter(options: SubmitterOptions): Submitter {
  const { logger } = options;
  const channel = createServerChannel(options.serverAddr, { ...options.channel, keepalive: true });
  const client = createClient(schedulerDefinition(), channel, authCallOptions(options.token));
  const closing = new AbortController();
  const pending: Entry[] = [];
  let sending = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Once the server has been reached, losing it is a restart to ride out, not an absence. */
  let everConnected = false;

  function schedule(): void {
    if (pending.length === 0) return;
    if (sending === 0 || pending.length >= options.batchSize) {
      flush();
    } else {
      timer ??= setTimeout(flush, options.batchTimeoutMs);
    }
  }

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0) {
      const batch = pending.splice(0, options.batchSize).filter((e) => !e.signal.aborted);
      if (batch.length > 0) void send(batch);
      if (sending > 0 && pending.length < options.batchSize) break;
    }
    if (pending.length > 0) timer = setTimeout(flush, options.batchTimeoutMs);
  }

  async function send(batch: Entry[]): Promise<void> {
    sending++;
    let acked = false;
    const ack = (): void => {
      if (acked) return;
      acked = true;
      sending--;
      schedule();
    };
    const open = new Map(batch.map((e) => [e.job.id, e]));
    const call = new AbortController();
    const abortIfAllGone = (): void => {
      if ([...open.values()].every((e) => e.signal.aborted)) call.abort();
    };
    for (const e of batch) e.signal.addEventListener('abort', abortIfAllGone, { once: true });
    try {
      try {
        await waitForChannelReady(channel, new Date(Date.now() + options.connectTimeoutMs));
      } catch {
        throw new ConnectTimeoutError();
      }
      everConnected = true;
      const stream = client.submitJobs(
        { jobs: batch.map((e) => e.job), protocolVersion: PROTOCOL_VERSION },
        { signal: AbortSignal.any([call.signal, closing.signal]) },
      );
      for await (const message of stream) {
        if (message.msg === 'accepted') {
          ack();
        } else {
          const entry = open.get(message.result.jobId);
          if (entry === undefined) continue;
          open.delete(message.result.jobId);
          entry.resolve({ type: 'result', result: message.result });
        }
      }
    } catch (err) {
      if (!call.signal.aborted && !closing.signal.aborted) retryOrGiveUp([...open.values()], err);
      open.clear();
    } finally {
      ack();
      for (const e of batch) e.signal.removeEventListener('abort', abortIfAllGone);
    }
    // A stream that ended without every result is a server that went away: resubmit.
    if (open.size > 0) retryOrGiveUp([...open.values()], new Error('the server ended the stream early'));
  }

  /** Jobs whose call failed are resubmitted (same ids, so idempotent) until the server has been gone too long. */
  function retryOrGiveUp(entries: Entry[], err: unknown): void {
    const now = Date.now();
    const reason = describeError(err, options);
    const windowMs = everConnected ? options.reconnectTimeoutMs : options.connectTimeoutMs;
    for (const e of entries) {
      if (e.signal.aborted) continue;
      e.unreachableSince ??= now;
      if (now - e.unreachableSince >= windowMs || (isPermanent(err) && !(everConnected && err instanceof ConnectTimeoutError))) {
        e.resolve({ type: 'unreachable', reason });
      } else {
        logger.debug(`resubmitting job ${e.job.id} after: ${reason}`);
        setTimeout(() => {
          pending.push(e);
          schedule();
        }, 200);
      }
    }
  }

  return {
    submit(job, signal) {
      return new Promise((resolve) => {
        pending.push({ job, signal, resolve, unreachableSince: undefined });
        schedule();
      });
    },
    close() {
      closing.abort();
      channel.close();
    },
  };
}

/** The channel did not become ready within the connect timeout. */
class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError';
}

function isPermanent(err: unknown): boolean {
  if (err instanceof ConnectTimeoutError) return true; // already waited the whole connect timeout
  // RESOURCE_EXHAUSTED: over max_jobs_per_client or max_message_bytes; the launcher builds locally rather than wait.
  return err instanceof ClientError && [Status.INVALID_ARGUMENT, Status.UNIMPLEMENTED, Status.UNAUTHENTICATED, Status.PERMISSION_DENIED, Status.RESOURCE_EXHAUSTED].includes(err.code);
}

function describeError(err: unknown, options: SubmitterOptions): string {
  if (err instanceof ClientError) return `the server ${options.serverAddr} answered ${Status[err.code]}: ${err.details}`;
  if (err instanceof ConnectTimeoutError) {
    return `cannot connect to the server ${options.serverAddr} within the connect timeout of ${options.connectTimeoutMs} ms (setting connect_timeout; is the server running?)`;
  }
  return `lost the server ${options.serverAddr}: ${(err as Error).message ?? String(err)}`;
}
