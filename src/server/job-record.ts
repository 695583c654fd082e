// A job as the server tracks it, from submission to its one final result.
import path from 'node:path';
import type { AttemptFailure, FailureKind, Job, JobResult } from '../protocol/messages.js';
import type { WorkerSession } from './worker-session.js';

export interface RunningAttempt {
  readonly attemptId: string;
  readonly worker: WorkerSession;
  readonly startedAt: number;
  /** The worker must renew before this (monotonic clock: performance.now()), or the attempt is lost and the job requeued. */
  leaseExpiresAt: number;
}

/**
 * A job's life. Queued (waiting for a worker, or between attempts); running one attempt;
 * committing (the server told that attempt to publish: its next result is final, and the sweep
 * gives it a grace period past its lease); settled, with its one final result.
 */
export type JobLife =
  | { readonly state: 'queued' }
  | { readonly state: 'running'; readonly attempt: RunningAttempt }
  | { readonly state: 'committing'; readonly attempt: RunningAttempt }
  | { readonly state: 'settled'; readonly result: JobResult };

/** The attempt a job runs now, if it runs one. */
export function attemptOf(record: JobRecord): RunningAttempt | undefined {
  return record.life.state === 'running' || record.life.state === 'committing' ? record.life.attempt : undefined;
}

export interface JobRecord {
  readonly job: Job;
  readonly summary: string;
  /** Whose share of the farm it counts against: one agent's stream, or a host. */
  readonly client: string;
  readonly submittedAt: number;
  life: JobLife;
  /** When it (re-)entered the queue. */
  queuedAt: number;
  /** When a free worker first took a younger job over it (locality), if one has. */
  passedOverAt: number | undefined;
  attemptNo: number;
  readonly failures: AttemptFailure[];
  /** Session ids of workers an attempt failed on: a retry goes elsewhere when it can. */
  readonly avoid: Set<string>;
  readonly waiters: Set<(result: JobResult) => void>;
}

export function createJobRecord(job: Job, now: number, client = job.client.slice(0, Math.max(0, job.client.lastIndexOf(':'))) || job.client): JobRecord {
  return {
    job,
    summary: summarize(job),
    client,
    submittedAt: now,
    life: { state: 'queued' },
    queuedAt: now,
    passedOverAt: undefined,
    attemptNo: 0,
    failures: [],
    avoid: new Set(),
    waiters: new Set(),
  };
}

/** A failed or rejected final result carrying every attempt's reason. */
export function failedResult(record: JobRecord, outcome: 'OUTCOME_FAILED' | 'OUTCOME_REJECTED', failure: FailureKind, message: string): JobResult {
  return {
    jobId: record.job.id,
    outcome,
    exitCode: 0,
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
    durationMs: 0,
    worker: attemptOf(record)?.worker.name ?? '',
    outputs: [],
    failure,
    message,
    attempts: [...record.failures],
    queuedMs: 0,
    outputTruncated: false,
  };
}

/** "src/net/a.c" for a compile, "bin/app" for a link: what a person recognises. */
function summarize(job: Job): string {
  const argv = job.argv;
  const o = argv.indexOf('-o');
  const out = o >= 0 ? argv[o + 1] : undefined;
  const source = argv.find((a, i) => i > 0 && !a.startsWith('-') && /\.(c|cc|cpp|cxx|c\+\+|C|m|mm|s|S)$/.test(a) && argv[i - 1] !== '-o');
  const pick = job.kind === 'JOB_KIND_LINK' ? out : (source ?? out);
  if (pick === undefined) return path.basename(argv[0] ?? '?');
  return pick.startsWith(job.clientMount) ? pick.slice(job.clientMount.length + 1) : pick;
}

/** The job's final result, once it has settled. */
export function resultOf(record: JobRecord): JobResult | undefined {
  return record.life.state === 'settled' ? record.life.result : undefined;
}
