// The server's job state machine: queue, placement on workers, retries, results.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import { failurePolicy } from '../common/failure.js';
import { argLimitViolation, defaultArgLimits, type ArgLimits } from '../common/job-limits.js';
import type { AttemptResult, CacheReport, DirReport, FailureKind, FinishedJob, Job, JobResult, JobTotals, RunningJob } from '../protocol/messages.js';
import { primaryDir } from './job-queue.js';
import { createFairQueue, type ClientShare } from './fair-queue.js';
import { attemptOf, createJobRecord, failedResult, resultOf, type JobRecord } from './job-record.js';
import { createLocalityIndex, type LocalityIndex } from './locality-index.js';
import { chooseWorker } from './placement.js';
import { compilerMisfits, noCompilerMessage } from './compiler-match.js';
import type { SchedulerEvents } from './server-metrics.js';
import { createWorkerPool } from './worker-pool.js';
import { freeSlots, type WorkerSession } from './worker-session.js';

export interface SchedulerOptions {
  readonly logger: Logger;
  /** Attempts per job before it fails, counting the first. */
  readonly maxAttempts: number;
  readonly jobTimeoutMs: number;
  /** A queued job fails after waiting this long for a worker. */
  readonly queueTimeoutMs: number;
  /** How long a finished job's result is kept for resubmissions of the same id. */
  readonly retentionMs: number;
  /** Longest a queued job is passed over by free workers that prefer warmer jobs. */
  readonly localityMaxDelayMs: number;
  /** How long a job nobody waits for any more is kept for a resubmission before it is cancelled. */
  readonly cancelGraceMs?: number;
  /** How long an attempt's lease lasts without renewal (default 30 s). */
  readonly leaseMs?: number;
  /** After start-up, how long jobs wait for workers to (re-)register before "no eligible worker" (default 15 s). */
  readonly registrationGraceMs?: number;
  /** Caps on a job's command line (max_job_args, max_arg_bytes). */
  readonly argLimits?: ArgLimits;
  /** Told of finished jobs, retries and placements (metrics). */
  readonly events?: SchedulerEvents;
}

/** Totals plus the locality counters. */
export interface SchedulerTotals extends JobTotals {
  localityHits: number;
  localityMisses: number;
}

export interface Scheduler {
  /**
   * Adds a job, or returns the record of a job with the same id (idempotent resubmission).
   * `client` names whose share of the farm it counts against (default: the host in job.client).
   */
  submit(job: Job, client?: string): JobRecord;
  /** Each client's queued and running jobs (fair share). */
  clientShares(): ClientShare[];
  /** Counts a client's cache lookups. */
  cacheReport(report: CacheReport): void;
  /** Calls `listener` once with the job's result; returns an unsubscribe function. */
  onResult(record: JobRecord, listener: (result: JobResult) => void): () => void;
  /** Cancels a job nobody waits for any more, after a grace period for its client to resubmit it. */
  cancelIfUnwanted(record: JobRecord): void;
  /** Cancels a job now, unless someone still waits for it (its client asked: Ctrl-C). */
  cancel(record: JobRecord): void;
  addWorker(worker: WorkerSession): void;
  removeWorker(worker: WorkerSession, reason: string): void;
  attemptResult(worker: WorkerSession, result: AttemptResult): void;
  /** The worker still runs these attempts. */
  renewLeases(worker: WorkerSession, attemptIds: readonly string[]): void;
  dirReport(worker: WorkerSession, report: DirReport): void;
  /** Re-runs placement after a worker's limits or state changed. */
  workerChanged(worker: WorkerSession): void;
  /** Fails queued jobs that waited too long and forgets old results. */
  sweep(now: number): void;
  readonly workers: ReadonlyMap<string, WorkerSession>;
  readonly locality: LocalityIndex;
  queuedCount(): number;
  runningJobs(now: number): RunningJob[];
  totals(): SchedulerTotals;
  /** The most recently finished jobs, newest first. */
  finishedJobs(now: number): FinishedJob[];
}

export function createScheduler(given: SchedulerOptions): Scheduler {
  const options = { leaseMs: 30_000, registrationGraceMs: 15_000, argLimits: defaultArgLimits(), ...given };
  const startedAt = Date.now();
  /** How long past its lease a committing attempt's final result is awaited. */
  const commitGraceMs = Math.min(5000, options.leaseMs / 2);
  /** Just after a (re)start, workers are still reconnecting: wait for them rather than fail. */
  const inGrace = (now: number): boolean => now - startedAt < options.registrationGraceMs;
  const { logger } = options;
  const pool = createWorkerPool();
  const locality = createLocalityIndex();
  const queue = createFairQueue();
  const jobs = new Map<string, JobRecord>();
  const totals: SchedulerTotals = {
    submitted: 0, succeeded: 0, compileErrors: 0, failed: 0, retries: 0, compiles: 0, links: 0, localityHits: 0, localityMisses: 0, cacheHits: 0, cacheMisses: 0,
  };
  const isLink = (r: JobRecord): boolean => r.job.kind === 'JOB_KIND_LINK';
  /** The most recently finished jobs, newest first. */
  const recent: { readonly record: JobRecord; readonly result: JobResult; readonly at: number }[] = [];

  function finish(record: JobRecord, result: JobResult): void {
    if (record.life.state === 'settled') return;
    record.life = { state: 'settled', result };
    if (result.outcome === 'OUTCOME_COMPLETED') {
      if (result.exitCode === 0) totals.succeeded++;
      else totals.compileErrors++;
      if (isLink(record)) totals.links++;
      else totals.compiles++;
    } else {
      totals.failed++;
    }
    options.events?.finished(record, result, Date.now());
    recent.unshift({ record, result, at: Date.now() });
    if (recent.length > RECENT) recent.pop();
    for (const waiter of [...record.waiters]) waiter(result);
    record.waiters.clear();
  }

  function fail(record: JobRecord, outcome: 'OUTCOME_FAILED' | 'OUTCOME_REJECTED', kind: FailureKind, message: string): void {
    logger.info(`job ${record.summary} ${outcome === 'OUTCOME_REJECTED' ? 'rejected' : 'failed'}: ${message}`);
    finish(record, failedResult(record, outcome, kind, message));
  }

  function assign(record: JobRecord, worker: WorkerSession): void {
    const attemptId = randomUUID();
    const dir = primaryDir(record);
    if (dir !== undefined) {
      const hit = locality.has(worker, dir);
      if (hit) {
        totals.localityHits++;
        worker.localityHits++;
      } else {
        totals.localityMisses++;
        worker.localityMisses++;
      }
      options.events?.placed(hit);
    }
    locality.touch(worker, record.job.dirs);
    record.attemptNo++;
    record.life = { state: 'running', attempt: { attemptId, worker, startedAt: Date.now(), leaseExpiresAt: monotonicNow() + options.leaseMs } };
    worker.running.set(attemptId, record);
    queue.running(record, true);
    pool.refresh(worker);
    worker.outbox.push({
      msg: 'assign',
      assign: {
        job: record.job,
        attemptId,
        attempt: record.attemptNo,
        timeoutMs: record.job.timeoutMs > 0 ? record.job.timeoutMs : options.jobTimeoutMs,
      },
    });
    if (logger.isDebugEnabled()) logger.debug(`assigned ${record.summary} to ${worker.name} (attempt ${record.attemptNo})`);
  }

  /** Keeps a job from the workers whose compiler is not the client's; why it cannot run if none is left. */
  function keepFromMisfits(record: JobRecord): string | undefined {
    const misfits = compilerMisfits(record.job, pool.all.values());
    for (const { worker } of misfits) {
      record.avoid.add(worker.id);
      worker.compilerMismatches++;
    }
    if (misfits.length === 0 || pool.eligibleCount(isLink(record)) > record.avoid.size) return undefined;
    return noCompilerMessage(record.job, misfits);
  }

  /** Places an arriving (or returning) job on the best free worker, or queues it. */
  function place(record: JobRecord, retry: boolean): void {
    record.life = { state: 'queued' };
    record.queuedAt = Date.now();
    const worker = chooseWorker(record, pool, locality);
    if (worker !== undefined) assign(record, worker);
    // A job that avoids some workers waits where every pick checks its avoid set.
    else queue.push(record, retry || record.avoid.size > 0);
  }

  /** Fills a worker's free slots from the queue. */
  function fill(worker: WorkerSession): void {
    const now = Date.now();
    while (freeSlots(worker) > 0 && queue.size > 0) {
      const record = queue.pickFor(worker, locality, now, options.localityMaxDelayMs, (r) => pool.eligibleCount(isLink(r)) > r.avoid.size);
      if (record === undefined) return;
      assign(record, worker);
    }
  }

  /** An attempt did not complete: retry it elsewhere or give up, as the taxonomy says. */
  function attemptFailed(record: JobRecord, worker: WorkerSession | undefined, kind: FailureKind, message: string): void {
    const policy = failurePolicy(kind);
    if (worker !== undefined) record.avoid.add(worker.id);
    if (worker !== undefined && policy.blamesWorker) {
      worker.failed++;
      const was = worker.breaker.current.state;
      worker.breaker.failure(Date.now());
      const after = worker.breaker.current;
      if (after.state === 'open' && was !== 'open') {
        logger.warn(`worker ${worker.name} benched for ${(after.cooldownMs / 1000).toFixed(0)} s after repeated failures (circuit open)`);
      }
      pool.refresh(worker);
    }
    record.failures.push({ worker: worker?.name ?? '', failure: kind, message });
    // The attempt is over: the job waits to be placed again, or to settle just below.
    record.life = { state: 'queued' };
    if (policy.retryable && record.attemptNo < options.maxAttempts && pool.anyEligible(isLink(record))) {
      totals.retries++;
      options.events?.retried(record);
      logger.warn(`retrying ${record.summary}: attempt ${record.attemptNo} on ${worker?.name ?? '?'} failed: ${message}`);
      place(record, true);
      return;
    }
    const why = record.failures.map((f, i) => `attempt ${i + 1}${f.worker ? ` on ${f.worker}` : ''}: ${f.message}`).join('; ');
    fail(record, 'OUTCOME_FAILED', kind, policy.retryable ? `gave up after ${record.attemptNo} attempt(s): ${why}` : message);
  }

  function cancelNow(record: JobRecord): void {
    if (record.life.state === 'settled' || record.waiters.size > 0) return;
    if (record.life.state === 'queued') {
      queue.remove(record);
    } else {
      const { worker, attemptId } = record.life.attempt;
      if (worker.running.delete(attemptId)) queue.running(record, false);
      worker.outbox.push({ msg: 'cancel', cancel: { attemptId, reason: 'cancelled by its client' } });
      pool.refresh(worker);
      fill(worker);
    }
    fail(record, 'OUTCOME_FAILED', 'FAILURE_KIND_CANCELLED', 'cancelled by its client');
  }

  return {
    workers: pool.all,
    locality,
    cacheReport(report) {
      totals.cacheHits += report.hits;
      totals.cacheMisses += report.misses;
      options.events?.cacheReported(report);
    },
    submit(job, client) {
      const known = jobs.get(job.id);
      // A resubmission attaches to the running job; only a cancelled one starts afresh.
      if (known !== undefined && resultOf(known)?.failure !== 'FAILURE_KIND_CANCELLED') return known;
      const record = createJobRecord(job, Date.now(), client);
      jobs.set(job.id, record);
      totals.submitted++;
      const invalid = validateJob(job, options.argLimits);
      if (invalid !== undefined) {
        fail(record, 'OUTCOME_REJECTED', 'FAILURE_KIND_INVALID_JOB', invalid);
      } else if (!pool.anyEligible(isLink(record)) && !inGrace(Date.now())) {
        const what = isLink(record) ? 'link-capable worker' : 'worker';
        fail(record, 'OUTCOME_FAILED', 'FAILURE_KIND_NO_ELIGIBLE_WORKER', `no ${what} is registered with the server`);
      } else {
        const mismatch = keepFromMisfits(record);
        if (mismatch !== undefined) fail(record, 'OUTCOME_FAILED', 'FAILURE_KIND_NO_ELIGIBLE_WORKER', mismatch);
        else place(record, false);
      }
      return record;
    },
    onResult(record, listener) {
      if (record.life.state === 'settled') {
        listener(record.life.result);
        return () => undefined;
      }
      record.waiters.add(listener);
      return () => record.waiters.delete(listener);
    },
    cancel: cancelNow,
    cancelIfUnwanted(record) {
      if (record.life.state === 'settled' || record.waiters.size > 0) return;
      setTimeout(() => cancelNow(record), options.cancelGraceMs ?? 10_000).unref();
    },
    addWorker(worker) {
      pool.add(worker);
      logger.info(`worker ${worker.name} registered from ${worker.address}: ${worker.maxJobs} slots, ${worker.registration.canLink ? 'links' : 'no links'}`);
      fill(worker);
    },
    removeWorker(worker, reason) {
      if (!pool.remove(worker)) return;
      const drained = worker.state === 'draining' && worker.running.size === 0;
      worker.state = 'gone';
      locality.removeWorker(worker);
      if (drained) logger.info(`worker ${worker.name} drained and left`);
      else logger.warn(`worker ${worker.name} left: ${reason}`);
      const lost = [...worker.running.values()];
      worker.running.clear();
      for (const record of lost) queue.running(record, false);
      for (const record of lost) attemptFailed(record, worker, 'FAILURE_KIND_WORKER_LOST', `worker ${worker.name} was lost: ${reason}`);
    },
    attemptResult(worker, result) {
      const record = worker.running.get(result.attemptId);
      const current = record === undefined ? undefined : attemptOf(record);
      if (record === undefined || current === undefined || current.attemptId !== result.attemptId) {
        logger.info(`discarded a late result of attempt ${result.attemptId} from ${worker.name}: its lease or its job is gone`);
        if (result.staged) worker.outbox.push({ msg: 'commit', commit: { attemptId: result.attemptId, publish: false, leaseRemainingMs: 0 } });
        return;
      }
      if (result.staged && result.outcome === 'OUTCOME_COMPLETED') {
        // Two-phase publication: only the current attempt, within its lease, may rename its outputs.
        const remaining = current.leaseExpiresAt - monotonicNow();
        if (remaining > 0) record.life = { state: 'committing', attempt: current };
        worker.outbox.push({ msg: 'commit', commit: { attemptId: result.attemptId, publish: remaining > 0, leaseRemainingMs: Math.max(0, remaining) } });
        return;
      }
      if (worker.running.delete(result.attemptId)) queue.running(record, false);
      if (result.outcome !== 'OUTCOME_FAILED') {
        const wasHalfOpen = worker.breaker.current.state !== 'closed';
        worker.breaker.success();
        if (wasHalfOpen) logger.info(`worker ${worker.name} passed its probe: circuit closed`);
      }
      pool.refresh(worker);
      if (result.memoryFreeBytes > 0) worker.memoryFreeBytes = result.memoryFreeBytes;
      const queuedMs = Math.max(0, current.startedAt - record.queuedAt);
      if (result.outcome === 'OUTCOME_COMPLETED') {
        worker.completed++;
        if (isLink(record)) worker.links++;
        else worker.compiles++;
        finish(record, {
          jobId: record.job.id,
          outcome: 'OUTCOME_COMPLETED',
          exitCode: result.exitCode,
          stdout: result.stdout,
          stderr: result.stderr,
          durationMs: result.durationMs,
          worker: worker.name,
          outputs: result.outputs,
          failure: 'FAILURE_KIND_UNSPECIFIED',
          message: '',
          attempts: [...record.failures],
          queuedMs,
          outputTruncated: result.outputTruncated,
        });
      } else if (result.outcome === 'OUTCOME_REJECTED') {
        fail(record, 'OUTCOME_REJECTED', result.failure, result.message);
      } else {
        attemptFailed(record, worker, result.failure, result.message);
      }
      fill(worker);
    },
    renewLeases(worker, attemptIds) {
      const until = monotonicNow() + options.leaseMs;
      for (const id of attemptIds) {
        const record = worker.running.get(id);
        const current = record === undefined ? undefined : attemptOf(record);
        if (current?.attemptId === id) current.leaseExpiresAt = until;
      }
    },
    dirReport(worker, report) {
      if (report.full) locality.replace(worker, report.dirs);
      else locality.apply(worker, report.dirs, report.removed);
    },
    workerChanged(worker) {
      pool.refresh(worker);
      fill(worker);
    },
    sweep(now) {
      const mono = monotonicNow();
      for (const worker of [...pool.all.values()]) {
        for (const [attemptId, record] of [...worker.running]) {
          const current = attemptOf(record);
          // A commit granted: the worker renames its outputs within the lease it was told; its
          // final result gets a grace period past it, so a rename under way is not raced by a retry.
          const deadline = current === undefined ? Infinity : current.leaseExpiresAt + (record.life.state === 'committing' ? commitGraceMs : 0);
          if (deadline > mono) continue;
          if (worker.running.delete(attemptId)) queue.running(record, false);
          worker.outbox.push({ msg: 'cancel', cancel: { attemptId, reason: 'its lease expired' } });
          pool.refresh(worker);
          attemptFailed(record, worker, 'FAILURE_KIND_WORKER_LOST', `worker ${worker.name} did not renew its lease within ${options.leaseMs} ms (setting lease_timeout)`);
        }
        if (worker.breaker.tick(now)) {
          logger.info(`worker ${worker.name} is on probation after its cool-down: one probe job (circuit half-open)`);
          pool.refresh(worker);
        }
        fill(worker);
      }
      if (!inGrace(now)) {
        for (const record of queue.all()) {
          if (pool.anyEligible(isLink(record))) continue;
          queue.remove(record);
          fail(record, 'OUTCOME_FAILED', 'FAILURE_KIND_NO_ELIGIBLE_WORKER', `no ${isLink(record) ? 'link-capable ' : ''}worker is registered with the server`);
        }
      }
      for (const record of queue.expired(now, options.queueTimeoutMs)) {
        queue.remove(record);
        fail(record, 'OUTCOME_FAILED', 'FAILURE_KIND_QUEUE_TIMEOUT',
          `no worker took the job within the queue timeout of ${options.queueTimeoutMs} ms (setting queue_timeout)`);
      }
      for (const [id, record] of jobs) {
        if (record.life.state === 'settled' && now - record.submittedAt > options.retentionMs) jobs.delete(id);
      }
    },
    queuedCount: () => queue.size,
    clientShares: () => queue.shares(),
    runningJobs(now) {
      const out: RunningJob[] = [];
      for (const w of pool.all.values()) {
        for (const record of w.running.values()) {
          out.push({
            jobId: record.job.id,
            kind: record.job.kind,
            worker: w.name,
            ageMs: now - (attemptOf(record)?.startedAt ?? now),
            summary: record.summary,
            attempt: record.attemptNo,
            client: record.client,
          });
        }
      }
      return out;
    },
    totals: () => ({ ...totals }),
    finishedJobs(now) {
      return recent.map(({ record, result, at }) => ({
        jobId: record.job.id,
        kind: record.job.kind,
        worker: result.worker,
        summary: record.summary,
        outcome: outcomeName(result),
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        finishedAgoMs: now - at,
        client: record.job.client,
        message: result.message,
        attempts: record.attemptNo,
      }));
    },
  };
}

/** Jobs the status keeps after they finish. */
const RECENT = 100;

function outcomeName(result: JobResult): string {
  if (result.outcome === 'OUTCOME_COMPLETED') return result.exitCode === 0 ? 'succeeded' : 'compile error';
  return result.outcome === 'OUTCOME_REJECTED' ? 'rejected' : 'failed';
}

/** Why a job can never run, or undefined. */
function validateJob(job: Job, limits: ArgLimits): string | undefined {
  if (job.id === '') return 'the job has no id';
  const tooLarge = argLimitViolation(job.argv, limits, 'server');
  if (tooLarge !== undefined) return tooLarge;
  if (job.kind !== 'JOB_KIND_COMPILE' && job.kind !== 'JOB_KIND_LINK') return `the job kind ${String(job.kind)} is not COMPILE or LINK`;
  if (job.argv.length === 0 || job.argv[0] === '') return 'the job has an empty command line';
  if (job.cwd.startsWith('/')) return `the cwd "${job.cwd}" is not relative to the mount`;
  if (!job.clientMount.startsWith('/')) return `the client mount "${job.clientMount}" is not an absolute path`;
  return undefined;
}

/** Leases run on the monotonic clock: a step of the wall clock (NTP, a suspended VM) neither expires nor extends them. */
function monotonicNow(): number {
  return performance.now();
}
