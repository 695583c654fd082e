// The failure taxonomy: what each kind of failure means for retries and for the worker.
import type { FailureKind } from '../protocol/messages.js';

export interface FailurePolicy {
  /** Another attempt, on another worker, may succeed. */
  readonly retryable: boolean;
  /** Counts against the worker (its circuit breaker, its failed count). */
  readonly blamesWorker: boolean;
}

const POLICIES: Record<FailureKind, FailurePolicy> = {
  FAILURE_KIND_UNSPECIFIED: { retryable: false, blamesWorker: false },
  FAILURE_KIND_WORKER_LOST: { retryable: true, blamesWorker: true },
  FAILURE_KIND_KILLED: { retryable: true, blamesWorker: true },
  FAILURE_KIND_SPAWN_FAILED: { retryable: true, blamesWorker: true },
  FAILURE_KIND_PUBLISH_FAILED: { retryable: true, blamesWorker: true },
  FAILURE_KIND_JOB_TIMEOUT: { retryable: false, blamesWorker: false },
  FAILURE_KIND_INVALID_JOB: { retryable: false, blamesWorker: false },
  FAILURE_KIND_QUEUE_TIMEOUT: { retryable: false, blamesWorker: false },
  FAILURE_KIND_NO_ELIGIBLE_WORKER: { retryable: false, blamesWorker: false },
  FAILURE_KIND_CANCELLED: { retryable: false, blamesWorker: false },
  FAILURE_KIND_WORKER_UNFIT: { retryable: true, blamesWorker: false },
  FAILURE_KIND_MOUNT_MISSING: { retryable: true, blamesWorker: true },
};

/**
 * The policy of a failure kind. A compile that ran and exited non-zero is not a
 * failure at all: it is OUTCOME_COMPLETED, returned as is and never retried.
 */
export function failurePolicy(kind: FailureKind): FailurePolicy {
  return POLICIES[kind] ?? POLICIES.FAILURE_KIND_UNSPECIFIED;
}
