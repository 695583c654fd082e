// The Work stream: one worker's session, from its registration to its end; its jobs are lost with it.
import { randomUUID } from 'node:crypto';
import { ServerError, Status, type CallContext } from 'nice-grpc';
import { coalesce, createChannel } from '../common/channel.js';
import type { Logger } from '../common/logger.js';
import { PROTOCOL_VERSION, type RegisterWorker, type ServerMessage, type WorkerMessage } from '../protocol/messages.js';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.js';
import type { Scheduler } from './scheduler.js';
import { createWorkerSession, type WorkerSession } from './worker-session.js';

export interface WorkStreamOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly lifecycle: () => 'running' | 'draining' | 'stopped';
}

/** Breakers kept per worker identity; beyond this many identities the oldest are forgotten. */
const MAX_BREAKERS = 10_000;

export function createWorkStreamHandler(options: WorkStreamOptions) {
  const { scheduler, logger } = options;
  /**
   * A worker's circuit breaker by its identity (host name and worker name), not by session: a
   * flapping worker that reconnects keeps its failures and its cool-down.
   */
  const breakers = new Map<string, CircuitBreaker>();
  const breakerOf = (r: RegisterWorker): CircuitBreaker => {
    const key = `${r.hostname}\0${r.name}`;
    let breaker = breakers.get(key);
    if (breaker === undefined) {
      breaker = createCircuitBreaker();
      if (breakers.size >= MAX_BREAKERS) breakers.delete(breakers.keys().next().value ?? '');
    } else {
      breakers.delete(key); // re-inserted below: the map stays in order of last registration
    }
    breakers.set(key, breaker);
    return breaker;
  };

  /** One message of the worker; a batch is its messages in order (never a batch in a batch). */
  function handle(session: WorkerSession, m: WorkerMessage, nested: boolean): void {
    switch (m.msg) {
      case 'result':
        scheduler.attemptResult(session, m.result);
        return;
      case 'update':
        if (m.update.state === 'WORKER_STATE_DRAINING') session.state = 'draining';
        if (m.update.maxJobs > 0) session.maxJobs = m.update.maxJobs;
        scheduler.workerChanged(session);
        return;
      case 'dirs':
        scheduler.dirReport(session, m.dirs);
        return;
      case 'renew':
        scheduler.renewLeases(session, m.renew.attemptIds);
        return;
      case 'batch':
        if (nested) {
          logger.warn(`worker ${session.name} sent a batch inside a batch; ignored`);
          return;
        }
        for (const inner of m.batch.messages) handle(session, inner, true);
        return;
      default:
        logger.warn(`worker ${session.name} sent an unexpected message "${m.msg}"`);
    }
  }

  return async function* work(requests: AsyncIterable<WorkerMessage>, context: CallContext): AsyncGenerator<ServerMessage> {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done === true) return;
    if (first.value.msg !== 'register') {
      throw new ServerError(Status.FAILED_PRECONDITION, `a worker's first message must be "register", not "${first.value.msg}"`);
    }
    const registration = first.value.register;
    if (registration.name === '' || registration.maxJobs < 1) {
      throw new ServerError(Status.INVALID_ARGUMENT, `invalid worker registration: name "${registration.name}", max_jobs ${registration.maxJobs}`);
    }
    if (options.lifecycle() !== 'running') throw new ServerError(Status.UNAVAILABLE, 'the server is shutting down');
    const outbox = createChannel<ServerMessage>(context.signal);
    const session = createWorkerSession(randomUUID(), context.peer, registration, outbox, breakerOf(registration));
    outbox.push({ msg: 'registered', registered: { workerId: session.id, leaseMs: options.leaseMs, protocolVersion: PROTOCOL_VERSION, acceptsBatches: true } });
    scheduler.addWorker(session);
    let reason = 'its stream closed';
    const reading = (async () => {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        handle(session, next.value, false);
      }
    })().then(
      () => undefined,
      (err: unknown) => {
        reason = `its stream failed: ${err instanceof Error ? err.message : String(err)}`;
      },
    ).finally(() => outbox.close());
    try {
      yield* coalesce(outbox, (messages) => ({ msg: 'batch', batch: { messages } }), () => registration.acceptsBatches);
    } finally {
      scheduler.removeWorker(session, context.signal.aborted ? 'it disconnected' : reason);
      void reading;
    }
  };
}
