// The worker: registers with the server, runs assigned jobs in place, reconnects when cut off.
import os from 'node:os';
import { createClient, waitForChannelReady } from 'nice-grpc';
import PQueue from 'p-queue';
import { authCallOptions } from '../common/auth.js';
import { coalesce, createChannel } from '../common/channel.js';
import type { ArgLimits } from '../common/job-limits.js';
import { createServerChannel, type ServerChannelOptions } from '../common/server-channel.js';
import type { Lifecycle } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { distbuildVersion } from '../common/version.js';
import { PROTOCOL_VERSION, type Assignment, type CommitAttempt, type Compiler, type Job, type ServerMessage, type WorkerMessage } from '../protocol/messages.js';
import type { CacheWriter, StoreOutcome } from './cache-writer.js';
import { schedulerDefinition } from '../protocol/scheduler-service.js';
import { memoryBytes } from './capabilities.js';
import { createDirTracker } from './dir-tracker.js';
import type { JobPolicy } from './job-policy.js';
import type { WorkerMetrics } from './worker-metrics.js';
import { runAttempt } from './run-attempt.js';
import { createSpawner } from './spawner.js';
import { createScratchDir } from './scratch-dir.js';

export interface WorkerOptions {
  /** HOST:PORT of the server, asked afresh before each session (server_addr, or mDNS). */
  readonly findServer: () => Promise<string>;
  readonly mount: string;
  readonly name: string;
  readonly maxJobs: number;
  readonly canLink: boolean;
  readonly compilers: readonly Compiler[];
  readonly envAllowlist: readonly string[];
  readonly connectTimeoutMs: number;
  readonly maxDirsTracked: number;
  readonly dirReportIntervalMs: number;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
  readonly token?: string | undefined;
  readonly policy: JobPolicy;
  /** Cap on each of a job's captured stdout and stderr. */
  readonly maxOutputBytes: number;
  /** Caps on a job's command line, checked again here (max_job_args, max_arg_bytes). */
  readonly argLimits: ArgLimits;
  /** TLS and the message size cap. */
  readonly channel: ServerChannelOptions;
  /** The result cache to store into (cache = true), or undefined. */
  readonly cache?: CacheWriter | undefined;
}

/** The lifecycle: running → draining → stopped. */
export type WorkerLifecycle = Lifecycle;

/** Where and when an assignment arrived: whether its attempt may publish without asking. */
interface Ticket {
  readonly session: number;
  readonly receivedAt: number;
}

export interface Worker {
  lifecycle(): WorkerLifecycle;
  /** Attempts running (or waiting to publish) now. */
  running(): number;
  /** Changes how many jobs it runs at once, and tells the server. */
  setMaxJobs(maxJobs: number): void;
  /** Replaces what it agrees to run (hot reload of compiler_allowlist, allow_flags); applies to jobs assigned from now on. */
  setPolicy(policy: JobPolicy): void;
  /** Takes no new jobs, finishes the running ones, then stops. */
  drain(): Promise<void>;
  /** Stops at once, killing running commands. */
  stop(): void;
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
}

export function startWorker(options: WorkerOptions): Worker {
  const { logger } = options;
  let lifecycle: WorkerLifecycle = { state: 'running' };
  const stopController = new AbortController();
  let maxJobs = options.maxJobs;
  let policy = options.policy;
  const queue = new PQueue({ concurrency: maxJobs });
  const spawner = createSpawner(logger);
  const scratch = createScratchDir(logger);
  /** attempt id → its cancel controller and its ticket (the session that assigned it). */
  const running = new Map<string, { readonly controller: AbortController; readonly ticket: Ticket }>();
  /** attempt id → resolves the wait for its CommitAttempt. */
  const commits = new Map<string, (commit: CommitAttempt) => void>();
  let leaseMs = 30_000;
  /** Sessions with the server, numbered from 1; the one registered and open now (0: none). */
  let sessions = 0;
  let openSession = 0;
  let renewTimer: NodeJS.Timeout | undefined;
  const renew = (): void => {
    if (running.size > 0) outbox.push({ msg: 'renew', renew: { attemptIds: [...running.keys()] } });
  };
  let outbox = createChannel<WorkerMessage>();
  const dirs = createDirTracker(options.maxDirsTracked);
  /** Deltas leave at most this often, so a burst of jobs makes one report. */
  const DELTA_EVERY_MS = 100;
  let deltaTimer: NodeJS.Timeout | undefined;
  const sendFullReport = (): void => {
    dirs.markReported();
    outbox.push({ msg: 'dirs', dirs: { full: true, dirs: dirs.all(), removed: [] } });
  };
  const scheduleDelta = (): void => {
    deltaTimer ??= setTimeout(() => {
      deltaTimer = undefined;
      const delta = dirs.takeDelta();
      if (delta !== undefined) outbox.push({ msg: 'dirs', dirs: { full: false, dirs: delta.added, removed: delta.removed } });
    }, DELTA_EVERY_MS);
  };
  const fullReports = setInterval(sendFullReport, options.dirReportIntervalMs);
  fullReports.unref();

  function handleAssignment(assign: Assignment): void {
    dirs.touch(assign.job.dirs);
    scheduleDelta();
    // One controller per attempt: the server's cancel aborts it, and so does a forced stop (below).
    const controller = new AbortController();
    const ticket: Ticket = { session: openSession, receivedAt: performance.now() };
    running.set(assign.attemptId, { controller, ticket });
    if (stopController.signal.aborted) controller.abort();
    void queue.add(async () => {
      try {
        await attempt(assign, ticket, controller, controller.signal);
      } finally {
        running.delete(assign.attemptId);
      }
    });
  }

  /** Waits for the server's verdict on a staged attempt; undefined if none came within a lease. */
  function awaitCommit(attemptId: string, signal: AbortSignal): Promise<{ commit: CommitAttempt; at: number } | undefined> {
    return new Promise((resolve) => {
      const done = (value: { commit: CommitAttempt; at: number } | undefined): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        commits.delete(attemptId);
        resolve(value);
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), leaseMs);
      signal.addEventListener('abort', onAbort, { once: true });
      commits.set(attemptId, (commit) => done({ commit, at: performance.now() }));
    });
  }

  /**
   * An attempt may publish its outputs at once, without the server's commit, while it is provably
   * the job's current attempt: in the session that assigned it (a lost session requeues its jobs)
   * and within half a lease of its assignment (the server requeues a job only when its lease runs
   * out, and a cancel that comes meanwhile is read before the command can end).
   */
  const mayPublishAtOnce = (ticket: Ticket): boolean =>
    ticket.session !== 0 && ticket.session === openSession && performance.now() - ticket.receivedAt < leaseMs / 2;

  const cache = options.cache === undefined ? undefined : { writer: options.cache, report: reportStore };
  function reportStore(job: Job, outcome: StoreOutcome | Error): void {
    if (outcome instanceof Error) {
      options.metrics?.cacheStore('failed');
      logger.warn(`could not store job ${job.id} in the cache: ${outcome.message} (setting cache_dir; cache = read-only stops storing)`);
      return;
    }
    options.metrics?.cacheStore(outcome.type, outcome.type === 'stored' ? outcome.bytes : undefined);
    if (outcome.type === 'skipped' && logger.isDebugEnabled()) logger.debug(`job ${job.id} not stored in the cache: ${outcome.reason}`);
  }

  async function attempt(assign: Assignment, ticket: Ticket, controller: AbortController, signal: AbortSignal): Promise<void> {
    const run = await runAttempt(assign, {
      policy, mount: options.mount, envAllowlist: options.envAllowlist, signal, maxOutputBytes: options.maxOutputBytes, argLimits: options.argLimits, spawner, scratchDir: scratch.dir, cache,
    });
    const result = run.result;
    options.metrics?.attemptDone(assign.job.kind, result);
    if (logger.isDebugEnabled()) {
      const command = assign.job.argv.join(' ');
      logger.debug(
        `ran \`${command.length > 300 ? `${command.slice(0, 300)}…` : command}\` in ${assign.job.cwd || '.'} (attempt ${assign.attempt}, ${assign.attemptId}): ` +
          `${result.outcome === 'OUTCOME_COMPLETED' ? `exit ${result.exitCode}` : `${result.failure} ${result.message}`} in ${result.durationMs} ms`,
      );
    }
    if (controller.signal.aborted) {
      await run.discard(); // cancelled: the server no longer wants it
      return;
    }
    if (!result.staged) {
      outbox.push({ msg: 'result', result });
      return;
    }
    if (mayPublishAtOnce(ticket)) {
      outbox.push({ msg: 'result', result: await run.publish() });
      return;
    }
    const verdict = awaitCommit(assign.attemptId, signal);
    outbox.push({ msg: 'result', result });
    const answer = await verdict;
    // Publish only with the server's go-ahead and while the lease still runs by our own (monotonic) clock.
    if (answer !== undefined && answer.commit.publish && performance.now() < answer.at + answer.commit.leaseRemainingMs) {
      outbox.push({ msg: 'result', result: await run.publish() });
    } else {
      await run.discard();
      logger.info(`discarded the outputs of attempt ${assign.attemptId}: ${answer === undefined ? 'no commit from the server in time' : 'its lease or its job is gone'}`);
    }
  }

  async function session(): Promise<void> {
    const thisSession = ++sessions;
    serverAddr = await options.findServer();
    const channel = createServerChannel(serverAddr, { ...options.channel, keepalive: true });
    try {
      await waitForChannelReady(channel, new Date(Date.now() + options.connectTimeoutMs));
      const client = createClient(schedulerDefinition(), channel, authCallOptions(options.token));
      outbox = createChannel<WorkerMessage>(stopController.signal);
      const mem = memoryBytes();
      outbox.push({
        msg: 'register',
        register: {
          name: options.name,
          maxJobs,
          canLink: options.canLink,
          compilers: [...options.compilers],
          memoryTotalBytes: mem.total,
          memoryFreeBytes: mem.free,
          fsMount: options.mount,
          version: distbuildVersion(),
          protocolVersion: PROTOCOL_VERSION,
          hostname: os.hostname(),
          runningAttempts: [...running.keys()],
          acceptsBatches: true,
        },
      });
      if (lifecycle.state === 'draining') outbox.push({ msg: 'update', update: { state: 'WORKER_STATE_DRAINING', maxJobs: 0 } });
      let serverAcceptsBatches = false;
      const messages = coalesce(outbox, (batch): WorkerMessage => ({ msg: 'batch', batch: { messages: batch } }), () => serverAcceptsBatches);
      /** The registration opens this session, whether it comes alone or in a batch with the first assignments. */
      const onMessage = (message: ServerMessage): void => {
        if (message.msg === 'registered') {
          serverAcceptsBatches = message.registered.acceptsBatches;
          openSession = thisSession;
        }
        handleServerMessage(message);
      };
      for await (const message of client.work(messages, { signal: stopController.signal })) {
        if (message.msg === 'batch') for (const inner of message.batch.messages) onMessage(inner);
        else onMessage(message);
      }
    } finally {
      if (openSession === thisSession) openSession = 0;
      outbox.close();
      channel.close();
      abortSession(thisSession);
    }
  }

  /**
   * A session ended: the server has requeued its jobs, so its attempts are killed (their process
   * groups with them) rather than left holding slots the next session advertises as free.
   */
  function abortSession(ended: number): void {
    let n = 0;
    for (const { controller, ticket } of running.values()) {
      if (ticket.session !== ended || controller.signal.aborted) continue;
      controller.abort();
      n++;
    }
    if (n > 0) logger.warn(`the session ended: killed its ${n} running attempt(s), which the server gives to other workers`);
  }

  function handleServerMessage(message: ServerMessage): void {
        switch (message.msg) {
          case 'registered':
            logger.info(`registered with ${serverAddr} as ${options.name} (${maxJobs} slots, ${options.canLink ? 'links' : 'no links'})`);
            backoffMs = 0;
            leaseMs = message.registered.leaseMs > 0 ? message.registered.leaseMs : leaseMs;
            if (renewTimer !== undefined) clearInterval(renewTimer);
            renewTimer = setInterval(renew, Math.max(50, leaseMs / 2));
            sendFullReport();
            renew();
            break;
          case 'assign':
            handleAssignment(message.assign);
            break;
          case 'cancel':
            running.get(message.cancel.attemptId)?.controller.abort();
            break;
          case 'commit':
            commits.get(message.commit.attemptId)?.(message.commit);
            break;
          case 'batch':
            logger.warn('the server sent a batch inside a batch; ignored');
            break;
        }
  }

  let backoffMs = 0;
  let leaving = false;
  /** The address of the current (or last) session's server. */
  let serverAddr = 'the server';
  const done = (async () => {
    while (!stopController.signal.aborted && !leaving) {
      try {
        await session();
        if (stopController.signal.aborted || leaving) break;
        logger.warn(`the server ${serverAddr} closed the session; reconnecting`);
      } catch (err) {
        if (stopController.signal.aborted || leaving) break;
        logger.warn(`cannot reach the server ${serverAddr}: ${(err as Error).message}; retrying`);
      }
      backoffMs = Math.min(10_000, Math.max(250, backoffMs * 2));
      const jittered = backoffMs / 2 + Math.random() * (backoffMs / 2);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, jittered);
        stopController.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
    }
    lifecycle = { state: 'stopped' };
    spawner.close();
    scratch.remove();
    clearInterval(fullReports);
    if (renewTimer !== undefined) clearInterval(renewTimer);
    if (deltaTimer !== undefined) clearTimeout(deltaTimer);
  })();

  return {
    lifecycle: () => lifecycle,
    running: () => running.size,
    setMaxJobs(n) {
      if (n === maxJobs) return;
      logger.info(`max_jobs changed from ${maxJobs} to ${n}`);
      maxJobs = n;
      queue.concurrency = n;
      outbox.push({ msg: 'update', update: { state: lifecycle.state === 'draining' ? 'WORKER_STATE_DRAINING' : 'WORKER_STATE_RUNNING', maxJobs: n } });
    },
    setPolicy(next) {
      policy = next;
      logger.info(`compiler allowlist now: ${[...next.allowed].join(', ') || 'nothing'}${next.allowFlags.length > 0 ? `; allowed flags: ${next.allowFlags.join(', ')}` : ''}`);
    },
    async drain() {
      if (lifecycle.state !== 'running') return;
      lifecycle = { state: 'draining', since: Date.now() };
      logger.info(`draining: finishing ${running.size} running job(s), taking no new ones`);
      outbox.push({ msg: 'update', update: { state: 'WORKER_STATE_DRAINING', maxJobs: 0 } });
      await queue.onIdle();
      // Half-close: the last results leave, then the server ends the session and we stop.
      leaving = true;
      outbox.close();
      await done;
    },
    stop() {
      stopController.abort();
      for (const { controller } of running.values()) controller.abort();
    },
    done,
  };
}
