// The server's Prometheus series, fed by scheduler events and read from its state at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheReport, JobResult } from '../protocol/messages.js';
import type { JobRecord } from './job-record.js';
import type { Scheduler } from './scheduler.js';

/** What the scheduler reports as it works. */
export interface SchedulerEvents {
  finished(record: JobRecord, result: JobResult, now: number): void;
  retried(record: JobRecord): void;
  placed(hit: boolean): void;
  /** A client's cache lookups since its last report. */
  cacheReported(report: CacheReport): void;
}

const kindLabel = (r: JobRecord): string => (r.job.kind === 'JOB_KIND_LINK' ? 'link' : 'compile');

function outcomeLabel(result: JobResult): string {
  if (result.outcome === 'OUTCOME_COMPLETED') return result.exitCode === 0 ? 'success' : 'compile_error';
  if (result.outcome === 'OUTCOME_REJECTED') return 'rejected';
  return 'failed';
}

/** Failures after which the launcher builds the job itself. */
const FALLBACK_REASONS: Partial<Record<JobResult['failure'], string>> = {
  FAILURE_KIND_NO_ELIGIBLE_WORKER: 'no_eligible_worker',
  FAILURE_KIND_QUEUE_TIMEOUT: 'queue_timeout',
  FAILURE_KIND_WORKER_LOST: 'attempts_exhausted',
  FAILURE_KIND_KILLED: 'attempts_exhausted',
  FAILURE_KIND_SPAWN_FAILED: 'attempts_exhausted',
  FAILURE_KIND_PUBLISH_FAILED: 'attempts_exhausted',
  FAILURE_KIND_WORKER_UNFIT: 'attempts_exhausted',
  FAILURE_KIND_MOUNT_MISSING: 'attempts_exhausted',
};

export interface ServerMetrics {
  readonly registry: Registry;
  readonly events: SchedulerEvents;
  /** Gauges read the scheduler at scrape time. */
  attach(scheduler: Scheduler): void;
}

export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'distbuild_server_' });
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
  const jobs = new Counter({ name: 'distbuild_jobs_total', help: 'Jobs finished, by kind and outcome.', labelNames: ['kind', 'outcome'], registers: [registry] });
  const queueWait = new Histogram({ name: 'distbuild_job_queue_wait_seconds', help: 'Time a job waited for a worker before its final attempt.', labelNames: ['kind'], buckets, registers: [registry] });
  const execution = new Histogram({ name: 'distbuild_job_execution_seconds', help: 'Wall time of the command on the worker.', labelNames: ['kind'], buckets, registers: [registry] });
  const endToEnd = new Histogram({ name: 'distbuild_job_duration_seconds', help: 'From submission to result, as the server sees it.', labelNames: ['kind'], buckets, registers: [registry] });
  const retries = new Counter({ name: 'distbuild_retries_total', help: 'Attempts placed again after a retryable failure.', registers: [registry] });
  const fallbacks = new Counter({ name: 'distbuild_fallbacks_total', help: 'Jobs handed back to their launcher to build locally, by reason.', labelNames: ['reason'], registers: [registry] });
  const hits = new Counter({ name: 'distbuild_locality_hits_total', help: "Placements on a worker already warm in the job's source directory.", registers: [registry] });
  const misses = new Counter({ name: 'distbuild_locality_misses_total', help: 'Placements on a worker that was not.', registers: [registry] });
  const cacheHits = new Counter({ name: 'distbuild_cache_hits_total', help: 'Compiles clients answered from the result cache.', registers: [registry] });
  const cacheMisses = new Counter({ name: 'distbuild_cache_misses_total', help: 'Cacheable compiles clients found no result for.', registers: [registry] });
  const cacheHitTime = new Histogram({
    name: 'distbuild_cache_hit_seconds', help: 'Time a client took to answer a compile from the cache.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1], registers: [registry],
  });
  for (const reason of new Set(Object.values(FALLBACK_REASONS))) fallbacks.inc({ reason }, 0);
  let scheduler: Scheduler | undefined;
  new Gauge({
    name: 'distbuild_workers', help: 'Registered workers, by lifecycle state.', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      this.set({ state: 'running' }, 0);
      this.set({ state: 'draining' }, 0);
      for (const w of scheduler?.workers.values() ?? []) this.inc({ state: w.state });
    },
  });
  new Gauge({
    name: 'distbuild_worker_circuit_state', help: "Workers by circuit breaker state (closed, open, half-open).", labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const state of ['closed', 'open', 'half-open']) this.set({ state }, 0);
      for (const w of scheduler?.workers.values() ?? []) this.inc({ state: w.breaker.current.state });
    },
  });
  new Gauge({
    name: 'distbuild_jobs_queued', help: 'Jobs waiting for a worker.', registers: [registry],
    collect() {
      this.set(scheduler?.queuedCount() ?? 0);
    },
  });
  new Gauge({
    name: 'distbuild_jobs_running', help: 'Jobs running on workers.', registers: [registry],
    collect() {
      let n = 0;
      for (const w of scheduler?.workers.values() ?? []) n += w.running.size;
      this.set(n);
    },
  });
  return {
    registry,
    attach(s) {
      scheduler = s;
    },
    events: {
      finished(record, result, now) {
        const kind = kindLabel(record);
        jobs.inc({ kind, outcome: outcomeLabel(result) });
        endToEnd.observe({ kind }, (now - record.submittedAt) / 1000);
        if (result.outcome === 'OUTCOME_COMPLETED') {
          queueWait.observe({ kind }, result.queuedMs / 1000);
          execution.observe({ kind }, result.durationMs / 1000);
        }
        const reason = result.outcome === 'OUTCOME_FAILED' ? FALLBACK_REASONS[result.failure] : undefined;
        if (reason !== undefined) fallbacks.inc({ reason });
      },
      retried: () => retries.inc(),
      placed: (hit) => (hit ? hits.inc() : misses.inc()),
      cacheReported(report) {
        cacheHits.inc(report.hits);
        cacheMisses.inc(report.misses);
        for (const us of report.hitMicros.slice(0, 4096)) cacheHitTime.observe(us / 1e6);
      },
    },
  };
}
