// One registered worker as the server sees it: capabilities, load, counters, outbox.
import type { Channel } from '../common/channel.js';
import type { RegisterWorker, ServerMessage, WorkerStatus } from '../protocol/messages.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import type { JobRecord } from './job-record.js';

export type WorkerSessionState = 'running' | 'draining' | 'gone';

export interface WorkerSession {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly registration: RegisterWorker;
  readonly connectedAt: number;
  state: WorkerSessionState;
  maxJobs: number;
  memoryFreeBytes: number;
  /** attempt id → job running on this worker. */
  readonly running: Map<string, JobRecord>;
  completed: number;
  failed: number;
  compiles: number;
  links: number;
  localityHits: number;
  localityMisses: number;
  /** Jobs kept from it because its compiler of that name is another one than the client's. */
  compilerMismatches: number;
  readonly breaker: CircuitBreaker;
  readonly outbox: Channel<ServerMessage>;
}

export function createWorkerSession(
  id: string,
  address: string,
  registration: RegisterWorker,
  outbox: Channel<ServerMessage>,
  /** The worker's breaker, kept across its sessions (see work-stream.ts); a new one by default. */
  breaker: CircuitBreaker = createCircuitBreaker(),
): WorkerSession {
  return {
    id,
    name: registration.name,
    address,
    registration,
    connectedAt: Date.now(),
    state: 'running',
    maxJobs: Math.max(1, registration.maxJobs),
    memoryFreeBytes: registration.memoryFreeBytes,
    running: new Map(),
    completed: 0,
    failed: 0,
    compiles: 0,
    links: 0,
    localityHits: 0,
    localityMisses: 0,
    compilerMismatches: 0,
    breaker,
    outbox,
  };
}

/** Free slots of a worker that takes jobs. */
export function freeSlots(w: WorkerSession): number {
  return w.state === 'running' ? w.breaker.allowedSlots(w.maxJobs, w.running.size) : 0;
}

export function workerStatus(w: WorkerSession, now: number, dirs: number): WorkerStatus {
  const placed = w.localityHits + w.localityMisses;
  const breaker = w.breaker.current;
  return {
    id: w.id,
    name: w.name,
    address: w.address,
    state: w.state,
    running: w.running.size,
    maxJobs: w.maxJobs,
    canLink: w.registration.canLink,
    completed: w.completed,
    failed: w.failed,
    compiles: w.compiles,
    links: w.links,
    compilers: w.registration.compilers,
    memoryTotalBytes: w.registration.memoryTotalBytes,
    memoryFreeBytes: w.memoryFreeBytes,
    connectedMs: now - w.connectedAt,
    hostname: w.registration.hostname,
    circuit: breaker.state,
    dirs,
    localityHitRate: placed === 0 ? 0 : w.localityHits / placed,
    breakerFailures: breaker.state === 'closed' ? breaker.failures : 0,
    compilerMismatches: w.compilerMismatches,
  };
}
