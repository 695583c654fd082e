// `distbuild --server`: runs the server until a signal drains it.
import { createLogger } from '../common/logger.js';
import type { Settings } from '../config/settings.js';
import { ConfigError } from '../config/config-error.js';
import { startServer } from '../server/server.js';
import { onStopSignals } from './signals.js';

export async function serverCommand(settings: Settings): Promise<number> {
  const logger = createLogger({ level: settings.logLevel, role: 'server' });
  let server;
  try {
    server = await startServer({
    listen: settings.listen,
    logger,
    jobTimeoutMs: settings.jobTimeoutMs,
    queueTimeoutMs: settings.queueTimeoutMs,
    maxAttempts: settings.maxAttempts,
    leaseMs: settings.leaseTimeoutMs,
    localityMaxDelayMs: settings.localityMaxDelayMs,
    httpPort: settings.httpPort,
    httpHost: settings.httpHost,
    tokens: settings.tokens,
    insecure: settings.insecure,
    tls: settings.tls,
    maxMessageBytes: settings.maxMessageBytes,
    argLimits: { maxJobArgs: settings.maxJobArgs, maxArgBytes: settings.maxArgBytes },
    maxJobsPerClient: settings.maxJobsPerClient,
  });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`distbuild: ${err.message}\n`);
    return 2;
  }
  const host = settings.listen.slice(0, settings.listen.lastIndexOf(':'));
  // Machine-readable: scripts and tests read the bound port from this line.
  if (server.httpPort !== undefined) process.stdout.write(`distbuild server metrics on http://${settings.httpHost}:${server.httpPort}/metrics\n`);
  process.stdout.write(`distbuild server listening on ${host}:${server.port}\n`);
  let off = (): void => undefined;
  await new Promise<void>((resolve) => {
    off = onStopSignals(
      () => {
        void server.drain().then(resolve);
      },
      () => {
        logger.warn('second signal: stopping now');
        server.stop();
        resolve();
      },
    );
  });
  off();
  return 0;
}
