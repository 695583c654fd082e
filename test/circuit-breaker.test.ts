// The circuit breaker: K infrastructure failures bench a worker; a probe restores it; cool-downs grow.
import t from 'tap';
import { createCircuitBreaker } from '../src/server/circuit-breaker.js';
import { failurePolicy } from '../src/common/failure.js';

t.test('closed → open → half-open → closed, with growing cool-downs', async (t) => {
  const b = createCircuitBreaker({ threshold: 3, baseCooldownMs: 1000, maxCooldownMs: 3000 });
  b.failure(0);
  b.failure(0);
  t.same(b.current, { state: 'closed', failures: 2 });
  t.equal(b.allowedSlots(4, 1), 3);
  b.failure(0);
  t.same(b.current, { state: 'open', until: 1000, cooldownMs: 1000 });
  t.equal(b.allowedSlots(4, 0), 0, 'benched: no jobs');
  t.equal(b.tick(999), false);
  t.equal(b.tick(1000), true);
  t.equal(b.current.state, 'half-open');
  t.equal(b.allowedSlots(4, 0), 1, 'one probe');
  t.equal(b.allowedSlots(4, 1), 0, 'only one');
  b.failure(1000);
  t.same(b.current, { state: 'open', until: 3000, cooldownMs: 2000 }, 'a failed probe doubles the cool-down');
  b.tick(3000);
  b.failure(3000);
  t.same(b.current, { state: 'open', until: 6000, cooldownMs: 3000 }, 'capped');
  b.tick(6000);
  b.success();
  t.same(b.current, { state: 'closed', failures: 0 }, 'a good probe closes it');
});

t.test('the taxonomy: what is retried and what is held against a worker', async (t) => {
  t.same(failurePolicy('FAILURE_KIND_WORKER_LOST'), { retryable: true, blamesWorker: true });
  t.same(failurePolicy('FAILURE_KIND_KILLED'), { retryable: true, blamesWorker: true });
  t.same(failurePolicy('FAILURE_KIND_SPAWN_FAILED'), { retryable: true, blamesWorker: true });
  t.same(failurePolicy('FAILURE_KIND_INVALID_JOB'), { retryable: false, blamesWorker: false });
  t.same(failurePolicy('FAILURE_KIND_JOB_TIMEOUT'), { retryable: false, blamesWorker: false });
  t.same(failurePolicy('FAILURE_KIND_QUEUE_TIMEOUT'), { retryable: false, blamesWorker: false });
});
