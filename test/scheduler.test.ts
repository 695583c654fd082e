// Placement: warm workers first, free slots never starve, links only where linking is allowed.
import t from 'tap';
import winston from 'winston';
import { createChannel } from '../src/common/channel.js';
import type { Job, ServerMessage } from '../src/protocol/messages.js';
import { resultOf } from '../src/server/job-record.js';
import { createScheduler, type Scheduler } from '../src/server/scheduler.js';
import { createWorkerSession, type WorkerSession } from '../src/server/worker-session.js';

const logger = winston.createLogger({ silent: true });

interface TestWorker {
  readonly session: WorkerSession;
  /** Job ids assigned to it, in order. */
  readonly assigned: string[];
  /** Completes the attempt of job `id` with exit code 0. */
  finish(id: string): void;
}

function setup(maxDelayMs = 10_000): { scheduler: Scheduler; worker: (name: string, o?: { slots?: number; link?: boolean; memory?: number }) => TestWorker } {
  const scheduler = createScheduler({ logger, maxAttempts: 3, jobTimeoutMs: 1000, queueTimeoutMs: 60_000, retentionMs: 60_000, localityMaxDelayMs: maxDelayMs, registrationGraceMs: 0 });
  const worker = (name: string, o: { slots?: number; link?: boolean; memory?: number } = {}): TestWorker => {
    const outbox = createChannel<ServerMessage>();
    const assigned: string[] = [];
    const attempts = new Map<string, string>();
    outbox.push = (m) => {
      if (m.msg === 'assign') {
        assigned.push(m.assign.job.id);
        attempts.set(m.assign.job.id, m.assign.attemptId);
      }
    };
    const session = createWorkerSession(name, '127.0.0.1:1', {
      name, maxJobs: o.slots ?? 1, canLink: o.link ?? true, compilers: [], memoryTotalBytes: 0, memoryFreeBytes: o.memory ?? 1e9,
      fsMount: '/m', version: '0', protocolVersion: 'PROTOCOL_VERSION_1', hostname: name, runningAttempts: [], acceptsBatches: true,
    }, outbox);
    scheduler.addWorker(session);
    return {
      session,
      assigned,
      finish(id) {
        scheduler.attemptResult(session, {
          attemptId: attempts.get(id) ?? '', jobId: id, outcome: 'OUTCOME_COMPLETED', exitCode: 0, stdout: new Uint8Array(),
          stderr: new Uint8Array(), durationMs: 1, outputs: [], failure: 'FAILURE_KIND_UNSPECIFIED', message: '', outputTruncated: false, memoryFreeBytes: 0, staged: false,
        });
      },
    };
  };
  return { scheduler, worker };
}

const job = (id: string, dirs: string[], kind: Job['kind'] = 'JOB_KIND_COMPILE'): Job => ({
  id, kind, argv: ['cc', '-c', `${dirs[0] ?? '.'}/${id}.c`], cwd: 'build', clientMount: '/m', env: {}, dirs, timeoutMs: 0, client: 't', outputs: [], compiler: '', cacheStore: false,
});

t.test('a job goes to the free worker warm in its directories', async (t) => {
  const { scheduler, worker } = setup();
  const a = worker('a', { slots: 4 });
  const b = worker('b', { slots: 4 });
  scheduler.dirReport(b.session, { full: true, dirs: ['src/net', 'include'], removed: [] });
  scheduler.dirReport(a.session, { full: true, dirs: ['src/ui', 'include'], removed: [] });
  for (let i = 0; i < 3; i++) scheduler.submit(job(`net${i}`, ['src/net', 'build/net', 'include']));
  scheduler.submit(job('ui0', ['src/ui', 'build/ui', 'include']));
  t.same(b.assigned, ['net0', 'net1', 'net2']);
  t.same(a.assigned, ['ui0']);
  t.equal(scheduler.totals().localityHits, 4);
});

t.test('a warm but busy worker never keeps a job from a free one', async (t) => {
  const { scheduler, worker } = setup();
  const warm = worker('warm', { slots: 1 });
  const cold = worker('cold', { slots: 1 });
  scheduler.dirReport(warm.session, { full: true, dirs: ['src/net'], removed: [] });
  scheduler.submit(job('n0', ['src/net']));
  scheduler.submit(job('n1', ['src/net']));
  t.same(warm.assigned, ['n0']);
  t.same(cold.assigned, ['n1'], 'placed at once on the free worker');
  t.equal(scheduler.queuedCount(), 0);
});

t.test('a freed worker takes queued work in its warm directories first, but not past the delay bound', async (t) => {
  const { scheduler, worker } = setup(10_000);
  const a = worker('a');
  const b = worker('b');
  scheduler.dirReport(a.session, { full: true, dirs: ['src/a'], removed: [] });
  scheduler.dirReport(b.session, { full: true, dirs: ['src/b'], removed: [] });
  scheduler.submit(job('a0', ['src/a']));
  scheduler.submit(job('b0', ['src/b']));
  scheduler.submit(job('b1', ['src/b'])); // queued first
  scheduler.submit(job('a1', ['src/a']));
  a.finish('a0');
  t.same(a.assigned, ['a0', 'a1'], 'a skipped the older b1 for its warm a1');
  b.finish('b0');
  t.same(b.assigned, ['b0', 'b1']);

  const late = setup(0);
  const x = late.worker('x');
  const y = late.worker('y');
  late.scheduler.dirReport(x.session, { full: true, dirs: ['src/x'], removed: [] });
  late.scheduler.submit(job('x0', ['src/x']));
  late.scheduler.submit(job('y0', ['src/y']));
  late.scheduler.submit(job('y1', ['src/y']));
  late.scheduler.submit(job('x1', ['src/x']));
  x.finish('x0');
  t.same(x.assigned, ['x0', 'y1'], 'with no delay allowed, the oldest job goes first');
  t.same(y.assigned, ['y0']);
});

t.test('a free worker with nothing warm starts a directory nobody has, not one another worker is in', async (t) => {
  const { scheduler, worker } = setup();
  const a = worker('a');
  const b = worker('b');
  scheduler.submit(job('p0', ['src/p']));
  scheduler.submit(job('q0', ['src/q']));
  scheduler.submit(job('p1', ['src/p']));
  scheduler.submit(job('r0', ['src/r']));
  const c = worker('c');
  t.same(c.assigned, ['r0'], 'took r0, the cold directory, not p1 which a is warm in');
  t.same([a.assigned.length, b.assigned.length], [1, 1]);
});

t.test('links go only to link-capable workers, ahead of compiles, preferring free memory among warm ones', async (t) => {
  const { scheduler, worker } = setup();
  const compileOnly = worker('compile-only', { slots: 1, link: false });
  const linker = worker('linker', { slots: 1, link: true });
  scheduler.submit(job('c0', ['src']));
  scheduler.submit(job('c1', ['src']));
  scheduler.submit(job('c2', ['src']));
  scheduler.submit(job('app', ['build'], 'JOB_KIND_LINK'));
  compileOnly.finish(compileOnly.assigned[0] ?? '');
  t.notOk(compileOnly.assigned.includes('app'), 'the link never goes to a compile-only worker');
  linker.finish(linker.assigned[0] ?? '');
  t.equal(linker.assigned[1], 'app', 'the link is taken before the queued compile');

  const mem = setup();
  const small = mem.worker('small', { slots: 2, memory: 1e9 });
  const big = mem.worker('big', { slots: 2, memory: 8e9 });
  const cold = mem.worker('cold', { slots: 2, memory: 64e9 });
  mem.scheduler.dirReport(small.session, { full: true, dirs: ['build/obj'], removed: [] });
  mem.scheduler.dirReport(big.session, { full: true, dirs: ['build/obj'], removed: [] });
  mem.scheduler.submit(job('lib', ['build/obj'], 'JOB_KIND_LINK'));
  t.same(big.assigned, ['lib'], 'of the warm workers, the one with the most free memory');
  t.same(cold.assigned, []);
});

t.test('with no link-capable worker, a link fails at once so the launcher can link locally', async (t) => {
  const { scheduler, worker } = setup();
  worker('compile-only', { link: false });
  const record = scheduler.submit(job('app', ['build'], 'JOB_KIND_LINK'));
  t.equal(resultOf(record)?.failure, 'FAILURE_KIND_NO_ELIGIBLE_WORKER');
});
