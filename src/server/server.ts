// The distbuild server: serves the Scheduler service and owns the scheduler's lifecycle.
import { createServer as createGrpcServer } from 'nice-grpc';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import type { Lifecycle } from '../common/lifecycle.js';
import type { Logger } from '../common/logger.js';
import { schedulerDefinition } from '../protocol/scheduler-service.js';
import { isLoopbackListen } from '../common/auth.js';
import { serveMetrics } from '../common/metrics-http.js';
import { ConfigError } from '../config/config-error.js';
import type { TlsFiles } from '../config/settings.js';
import type { ArgLimits } from '../common/job-limits.js';
import { serverTls } from '../common/tls.js';
import { createClientLimiter } from './client-limiter.js';
import { createAuthMiddleware } from './auth-middleware.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createDashboard } from './dashboard.js';
import { createServerMetrics, type SchedulerEvents } from './server-metrics.js';
import { statusSnapshot } from './status-snapshot.js';
import { createSchedulerHandlers } from './scheduler-handlers.js';

export interface ServerOptions {
  readonly listen: string;
  readonly logger: Logger;
  readonly jobTimeoutMs: number;
  readonly queueTimeoutMs: number;
  readonly maxAttempts: number;
  readonly leaseMs: number;
  readonly localityMaxDelayMs: number;
  /** Serve /metrics on this port (0: any); undefined: no HTTP at all. */
  readonly httpPort?: number | undefined;
  readonly httpHost?: string;
  /** Tokens a client must send with every RPC; empty: no authentication (loopback or --insecure only). */
  readonly tokens?: readonly string[];
  /** Tokens only workers hold: with any, worker registration takes only these (see auth-middleware.ts). */
  readonly workerTokens?: readonly string[];
  readonly insecure?: boolean;
  /** tls_cert/tls_key: serve TLS; with tls_ca, require client certificates signed by it. */
  readonly tls?: TlsFiles;
  /** Largest message received (default 16 MiB). */
  readonly maxMessageBytes?: number;
  readonly argLimits?: ArgLimits;
  /** Jobs in flight per client address (default 1000). */
  readonly maxJobsPerClient?: number;
}

/** The lifecycle: running → draining → stopped. */
export type ServerLifecycle = Lifecycle;

export interface DistbuildServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The HTTP (/metrics) port, if serving. */
  readonly httpPort: number | undefined;
  readonly scheduler: Scheduler;
  lifecycle(): ServerLifecycle;
  /** Stops taking new jobs, lets running ones finish, then stops. */
  drain(): Promise<void>;
  /** Stops at once, cutting every stream. */
  stop(): void;
  /** Replaces the accepted tokens (hot reload); refuses an empty list where the listen address needs one. */
  setTokens(next: readonly string[]): void;
  /** Replaces the accepted worker tokens (hot reload). */
  setWorkerTokens(next: readonly string[]): void;
}

export async function startServer(options: ServerOptions): Promise<DistbuildServer> {
  const { logger } = options;
  let tokens = options.tokens ?? [];
  let workerTokens = options.workerTokens ?? [];
  const tls = serverTls(options.tls ?? { cert: undefined, key: undefined, ca: undefined });
  // Off loopback, a client must prove itself: by a token or by a certificate of tls_ca (mTLS).
  if (tokens.length === 0 && !tls.mutual && !isLoopbackListen(options.listen)) {
    if (options.insecure !== true) {
      throw new ConfigError(
        `refusing to listen on ${options.listen} without authentication: anyone who reaches the port could run commands on the workers. Set a token (DISTBUILD_TOKEN, token or token_file) or require client certificates (tls_cert, tls_key and tls_ca), or pass --insecure on an isolated network`,
        'listen',
      );
    }
    logger.warn(`listening on ${options.listen} WITHOUT authentication (--insecure): anyone who can reach this port can run commands on the workers`);
  }
  if (tokens.length > 0 && !tls.tls && !isLoopbackListen(options.listen)) {
    logger.warn(`listening on ${options.listen} without TLS: the token crosses the network in plain text; set tls_cert and tls_key`);
  }
  let lifecycle: ServerLifecycle = { state: 'running' };
  const metrics = createServerMetrics();
  const startedAt = Date.now();
  // The dashboard reads the same snapshot as GetStatus (the scheduler exists by the first request).
  const dashboard = createDashboard(() => statusSnapshot(scheduler, lifecycle.state, startedAt));
  const events: SchedulerEvents = {
    ...metrics.events,
    finished(record, result, now) {
      metrics.events.finished(record, result, now);
      dashboard.changed();
    },
  };
  const scheduler = createScheduler({
    events,
    logger,
    maxAttempts: options.maxAttempts,
    jobTimeoutMs: options.jobTimeoutMs,
    queueTimeoutMs: options.queueTimeoutMs,
    retentionMs: 10 * 60_000,
    localityMaxDelayMs: options.localityMaxDelayMs,
    leaseMs: options.leaseMs,
    ...(options.argLimits === undefined ? {} : { argLimits: options.argLimits }),
  });
  const baseServer = createGrpcServer({
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.max_receive_message_length': options.maxMessageBytes ?? 16 * 1024 * 1024,
  });
  // Every RPC passes the auth middleware: with tokens set (now or after a reload) it needs one, except the health service.
  const grpcServer = baseServer.use(createAuthMiddleware(() => tokens, () => workerTokens));
  if (tokens.length > 0 && workerTokens.length === 0) {
    logger.info('workers and clients share the token: any client can register a worker; set worker_token_file to give workers their own');
  }
  grpcServer.add(
    schedulerDefinition(),
    createSchedulerHandlers({
      scheduler,
      logger,
      leaseMs: options.leaseMs,
      maxBatch: 1000,
      lifecycle: () => lifecycle.state,
      startedAt,
      limiter: createClientLimiter(options.maxJobsPerClient ?? 1000),
    }),
  );
  // grpc.health.v1: SERVING while running, NOT_SERVING once draining.
  const health = HealthState();
  grpcServer.add(HealthDefinition, HealthServiceImpl(health));
  const port = await grpcServer.listen(options.listen, tls.credentials);
  metrics.attach(scheduler);
  const http = options.httpPort === undefined ? undefined : await serveMetrics(metrics.registry, options.httpHost ?? '127.0.0.1', options.httpPort, dashboard.handle);
  const sweeper = setInterval(() => scheduler.sweep(Date.now()), Math.min(1000, Math.max(50, options.leaseMs / 4)));
  sweeper.unref();
  const security = [tls.mutual ? 'mTLS' : tls.tls ? 'TLS' : 'plain text', ...(tokens.length > 0 ? ['token'] : []), ...(workerTokens.length > 0 ? ['worker token'] : [])].join(' + ');
  logger.info(`listening (${security}) on ${options.listen.replace(/:0$/, '')}${options.listen.endsWith(':0') ? `:${port}` : ''}`);

  const stop = (): void => {
    if (lifecycle.state === 'stopped') return;
    lifecycle = { state: 'stopped' };
    clearInterval(sweeper);
    dashboard.close();
    http?.close();
    grpcServer.forceShutdown();
  };

  return {
    port,
    httpPort: http?.port,
    scheduler,
    lifecycle: () => lifecycle,
    async drain() {
      if (lifecycle.state !== 'running') return;
      lifecycle = { state: 'draining', since: Date.now() };
      health.setStatus('unhealthy');
      logger.info('draining: no new jobs; waiting for running and queued jobs to finish');
      while (scheduler.queuedCount() > 0 || scheduler.runningJobs(Date.now()).length > 0) {
        await new Promise((r) => setTimeout(r, 100));
      }
      stop();
    },
    stop,
    setTokens(next) {
      if (next.length === 0 && tokens.length > 0 && !isLoopbackListen(options.listen) && options.insecure !== true) {
        throw new ConfigError(`refusing to drop every token while listening on ${options.listen}: keep a token in token / token_file, or restart with --insecure`, 'tokenFile');
      }
      if (next.length !== tokens.length || next.some((t, i) => t !== tokens[i])) logger.info(`token list reloaded: ${next.length} token(s) accepted`);
      tokens = [...next];
    },
    setWorkerTokens(next) {
      if (next.length !== workerTokens.length || next.some((t, i) => t !== workerTokens[i])) logger.info(`worker token list reloaded: ${next.length} token(s) accepted`);
      workerTokens = [...next];
    },
  };
}
