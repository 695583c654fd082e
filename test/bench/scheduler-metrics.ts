// In-process scheduler metrics: assignments per second with 1,000 fake workers, and locality hit rate in virtual time.
import winston from 'winston';
import { createChannel } from '../../src/common/channel.js';
import type { AttemptResult, Job, ServerMessage } from '../../src/protocol/messages.js';
import { createScheduler, type Scheduler } from '../../src/server/scheduler.js';
import { createWorkerSession, type WorkerSession } from '../../src/server/worker-session.js';
import { seededRandom } from './stats.js';

const logger = winston.createLogger({ silent: true });
const EMPTY = new Uint8Array();

interface Assigned {
  readonly session: WorkerSession;
  readonly attemptId: string;
  readonly jobId: string;
}

/** The server's default locality_max_delay. */
export const DEFAULT_LOCALITY_MAX_DELAY_MS = 200;

function newScheduler(localityMaxDelayMs = DEFAULT_LOCALITY_MAX_DELAY_MS): Scheduler {
  return createScheduler({ logger, maxAttempts: 3, jobTimeoutMs: 600_000, queueTimeoutMs: 3_600_000, retentionMs: 60_000, localityMaxDelayMs });
}

/** Registers a fake worker whose outbox hands each assignment to `onAssign`. */
function addWorker(scheduler: Scheduler, name: string, slots: number, onAssign: (a: Assigned) => void): WorkerSession {
  const outbox = createChannel<ServerMessage>();
  let session: WorkerSession | undefined;
  outbox.push = (m) => {
    if (m.msg === 'assign' && session !== undefined) onAssign({ session, attemptId: m.assign.attemptId, jobId: m.assign.job.id });
  };
  session = createWorkerSession(name, '127.0.0.1:1', {
    name, maxJobs: slots, canLink: true, compilers: [], memoryTotalBytes: 0, memoryFreeBytes: 1e9,
    fsMount: '/m', version: '0', protocolVersion: 'PROTOCOL_VERSION_1', hostname: name, runningAttempts: [], acceptsBatches: true,
  }, outbox);
  scheduler.addWorker(session);
  return session;
}

const completed = (a: Assigned): AttemptResult => ({
  attemptId: a.attemptId, jobId: a.jobId, outcome: 'OUTCOME_COMPLETED', exitCode: 0, stdout: EMPTY, stderr: EMPTY, durationMs: 1,
  outputs: [], failure: 'FAILURE_KIND_UNSPECIFIED', message: '', outputTruncated: false, memoryFreeBytes: 0, staged: false,
});

const compileJob = (id: string, dirs: string[]): Job => ({
  id, kind: 'JOB_KIND_COMPILE', argv: ['cc', '-c', `${dirs[0] ?? '.'}/${id}.c`, '-o', `${dirs[1] ?? '.'}/${id}.o`], cwd: 'build',
  clientMount: '/m', env: {}, dirs, timeoutMs: 0, client: 'bench', outputs: [], compiler: '', cacheStore: false,
});

export interface ThroughputOptions {
  readonly workers: number;
  readonly slots: number;
  readonly dirsPerWorker: number;
  /** Modules of the tree: each has a source and a build directory. */
  readonly modules: number;
  readonly includeDirs: number;
  readonly jobs: number;
  /** Jobs outstanding (running + queued) at most; above the total slots, some queue. */
  readonly window: number;
  readonly seed: number;
}

export const THROUGHPUT_DEFAULTS: ThroughputOptions = {
  workers: 1000, slots: 4, dirsPerWorker: 200, modules: 10_000, includeDirs: 100, jobs: 200_000, window: 6000, seed: 1,
};

export interface ThroughputRun {
  readonly perSecond: number;
  readonly elapsedMs: number;
  /** This process's user + system CPU over the same interval (wall time suffers from other load). */
  readonly cpuMs: number;
  readonly assignments: number;
  readonly hitRate: number;
}

/** Metric 4: assignments per second of wall time, submitting jobs and completing attempts to keep slots turning. */
export function measureThroughput(o: ThroughputOptions = THROUGHPUT_DEFAULTS): ThroughputRun {
  const rng = seededRandom(o.seed);
  const scheduler = newScheduler();
  const running: Assigned[] = [];
  let assignments = 0;
  const onAssign = (a: Assigned): void => {
    assignments++;
    running.push(a);
  };
  for (let w = 0; w < o.workers; w++) {
    const session = addWorker(scheduler, `w${w}`, o.slots, onAssign);
    const dirs = new Set<string>();
    while (dirs.size < o.dirsPerWorker) {
      const m = Math.floor(rng() * o.modules);
      dirs.add(`src/m${m}`);
      dirs.add(`build/m${m}`);
    }
    scheduler.dirReport(session, { full: true, dirs: [...dirs], removed: [] });
  }
  // Jobs in tree order, ~jobs/modules files per module, each with its source, output and an include dir.
  const perModule = Math.max(1, Math.ceil(o.jobs / o.modules));
  const jobs: Job[] = [];
  for (let i = 0; i < o.jobs; i++) {
    const m = Math.floor(i / perModule);
    jobs.push(compileJob(`j${o.seed}-${i}`, [`src/m${m}`, `build/m${m}`, `include/i${m % o.includeDirs}`]));
  }
  if (assignments !== 0) throw new Error('assignments before any job was submitted');

  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  let next = 0;
  let done = 0;
  let head = 0;
  while (next < o.jobs || head < running.length) {
    if (next < o.jobs && next - done < o.window) {
      scheduler.submit(jobs[next++] as Job);
      continue;
    }
    const a = running[head++] as Assigned;
    scheduler.attemptResult(a.session, completed(a));
    done++;
  }
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const totals = scheduler.totals();
  if (assignments !== o.jobs || totals.succeeded !== o.jobs) throw new Error(`expected ${o.jobs} assignments and successes, got ${assignments} and ${totals.succeeded}`);
  const hitRate = totals.localityHits / (totals.localityHits + totals.localityMisses);
  return { perSecond: assignments / (elapsedMs / 1000), elapsedMs, cpuMs, assignments, hitRate };
}

/** A binary min-heap of completion events in virtual time. */
class EventHeap<T> {
  private readonly items: { t: number; seq: number; value: T }[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  push(t: number, value: T): void {
    const items = this.items;
    items.push({ t, seq: this.seq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [items[i], items[p]] = [items[p] as (typeof items)[number], items[i] as (typeof items)[number]];
      i = p;
    }
  }
  pop(): { t: number; value: T } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(l, m)) m = l;
        if (r < items.length && this.less(r, m)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as (typeof items)[number], items[i] as (typeof items)[number]];
        i = m;
      }
    }
    return top;
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a];
    const y = this.items[b];
    if (x === undefined || y === undefined) return false;
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
}

export interface LocalityOptions {
  readonly dirs: number;
  readonly filesPerDir: number;
  readonly workers: number;
  readonly slots: number;
  /** `ninja -jJ`: jobs outstanding at most. */
  readonly jobsOutstanding: number;
  readonly seed: number;
  /** The scheduler's locality_max_delay, in virtual ms. */
  readonly localityMaxDelayMs?: number;
}

export interface LocalityRun {
  readonly hitRate: number;
  /** Virtual ms until the last job finished. */
  readonly makespanMs: number;
}

const jobDirs = (d: number): string[] => [`src/d${d}`, `build/d${d}`, 'include'];

/**
 * Drives a `ninja -jJ` build of the tree in virtual time: jobs are submitted in tree order, each runs
 * 50–150 virtual ms, and completions come from a priority queue.
 */
function simulate<T>(o: LocalityOptions, submit: (i: number, dir: number) => void, complete: (ev: T) => void,
  events: EventHeap<T>, clock: { now: number }): number {
  const total = o.dirs * o.filesPerDir;
  let submitted = 0;
  let done = 0;
  const top = (): void => {
    while (submitted < total && submitted - done < o.jobsOutstanding) {
      submit(submitted, Math.floor(submitted / o.filesPerDir));
      submitted++;
    }
  };
  top();
  for (let ev = events.pop(); ev !== undefined; ev = events.pop()) {
    clock.now = ev.t;
    done++;
    complete(ev.value);
    top();
  }
  if (done !== total) throw new Error(`simulation finished ${done} of ${total} jobs`);
  return clock.now;
}

/** Metric 5, the scheduler: hit = the job went to a worker already warm in its source directory. */
export function localityScheduler(o: LocalityOptions): LocalityRun {
  const rng = seededRandom(o.seed);
  const clock = { now: 0 };
  const realNow = Date.now;
  const epoch = realNow();
  Date.now = () => epoch + Math.floor(clock.now);
  try {
    const scheduler = newScheduler(o.localityMaxDelayMs);
    const events = new EventHeap<Assigned>();
    const onAssign = (a: Assigned): void => events.push(clock.now + 50 + rng() * 100, a);
    for (let w = 0; w < o.workers; w++) addWorker(scheduler, `w${w}`, o.slots, onAssign);
    const makespanMs = simulate(o, (i, d) => scheduler.submit(compileJob(`f${i}`, jobDirs(d))),
      (a) => scheduler.attemptResult(a.session, completed(a)), events, clock);
    const t = scheduler.totals();
    return { hitRate: t.localityHits / (t.localityHits + t.localityMisses), makespanMs };
  } finally {
    Date.now = realNow;
  }
}

/** Metric 5, the baseline: each job goes to a uniformly random free worker; a freed slot takes the oldest queued job. */
export function localityRandom(o: LocalityOptions): LocalityRun {
  const rng = seededRandom(o.seed);
  const clock = { now: 0 };
  const events = new EventHeap<number>();
  const running = new Array<number>(o.workers).fill(0);
  const warm = Array.from({ length: o.workers }, () => new Set<string>());
  const queue: number[] = [];
  let qHead = 0;
  let hits = 0;
  let misses = 0;
  const start = (dir: number, w: number): void => {
    const dirs = jobDirs(dir);
    const set = warm[w] as Set<string>;
    if (set.has(dirs[0] ?? '')) hits++;
    else misses++;
    for (const d of dirs) set.add(d);
    running[w] = (running[w] ?? 0) + 1;
    events.push(clock.now + 50 + rng() * 100, w);
  };
  const makespanMs = simulate(o, (_i, dir) => {
    const free = running.flatMap((r, w) => (r < o.slots ? [w] : []));
    if (free.length === 0) queue.push(dir);
    else start(dir, free[Math.floor(rng() * free.length)] as number);
  }, (w) => {
    running[w] = (running[w] ?? 0) - 1;
    if (qHead < queue.length) start(queue[qHead++] as number, w);
  }, events, clock);
  return { hitRate: hits / (hits + misses), makespanMs };
}
