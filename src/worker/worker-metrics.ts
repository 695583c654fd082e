// A worker's Prometheus series: attempts by kind and outcome, their run time, its busy slots, its cache stores.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptResult, JobKind } from '../protocol/messages.js';

export interface WorkerMetrics {
  readonly registry: Registry;
  attemptDone(kind: JobKind, result: AttemptResult): void;
  /** A result stored in the cache ('stored', with its size), skipped or failed. */
  cacheStore(outcome: 'stored' | 'skipped' | 'failed', bytes?: number): void;
}

export function createWorkerMetrics(slots: () => { running: number; max: number }): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'distbuild_worker_' });
  const attempts = new Counter({ name: 'distbuild_worker_attempts_total', help: 'Attempts this worker ran, by kind and outcome.', labelNames: ['kind', 'outcome'], registers: [registry] });
  const execution = new Histogram({
    name: 'distbuild_worker_execution_seconds', help: 'Wall time of the commands this worker ran.', labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry],
  });
  const stores = new Counter({ name: 'distbuild_worker_cache_stores_total', help: 'Results this worker offered the cache: stored, skipped (not cacheable as run) or failed.', labelNames: ['outcome'], registers: [registry] });
  const storedBytes = new Counter({ name: 'distbuild_worker_cache_stored_bytes_total', help: 'Bytes of entries this worker wrote to the cache.', registers: [registry] });
  new Gauge({ name: 'distbuild_worker_jobs_running', help: 'Jobs running now.', registers: [registry], collect() { this.set(slots().running); } });
  new Gauge({ name: 'distbuild_worker_slots', help: 'Jobs this worker runs at once.', registers: [registry], collect() { this.set(slots().max); } });
  return {
    registry,
    attemptDone(kind, result) {
      const k = kind === 'JOB_KIND_LINK' ? 'link' : 'compile';
      const outcome = result.outcome === 'OUTCOME_COMPLETED' ? (result.exitCode === 0 ? 'success' : 'compile_error') : result.outcome === 'OUTCOME_REJECTED' ? 'rejected' : 'failed';
      attempts.inc({ kind: k, outcome });
      execution.observe({ kind: k }, result.durationMs / 1000);
    },
    cacheStore(outcome, bytes) {
      stores.inc({ outcome });
      if (bytes !== undefined) storedBytes.inc(bytes);
    },
  };
}
