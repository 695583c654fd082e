// `distbuild --server`: runs the server (announced on the LAN by mDNS) until a signal drains it; reloads tokens live.
import { isLoopbackListen } from '../common/auth.js';
import { stat } from 'node:fs/promises';
import { trimCache } from '../common/cache-janitor.js';
import { errnoCode } from '../common/errno.js';
import { createLogger, type Logger } from '../common/logger.js';
import { distbuildVersion } from '../common/version.js';
import type { Settings } from '../config/settings.js';
import { ConfigError } from '../config/config-error.js';
import { startServer } from '../server/server.js';
import { onStopSignals } from './signals.js';
import { watchConfig } from './watch-config.js';

export async function serverCommand(settings: Settings, reload?: () => Promise<Settings>): Promise<number> {
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
      workerTokens: settings.workerTokens,
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
  // Machine-readable: scripts and tests read the bound ports from these lines.
  if (server.httpPort !== undefined) {
    process.stdout.write(`distbuild server metrics on http://${settings.httpHost}:${server.httpPort}/metrics\n`);
    process.stdout.write(`distbuild server dashboard on http://${settings.httpHost}:${server.httpPort}/\n`);
  }
  process.stdout.write(`distbuild server listening on ${host}:${server.port}\n`);
  // Only a server that others can reach is worth announcing.
  const announcement = settings.mdns && !isLoopbackListen(settings.listen)
    ? await (await import('../discovery/announce-server.js')).announceServer(
        server.port,
        { version: distbuildVersion(), token: settings.tokens.length > 0 ? 'yes' : 'no', tls: settings.tls.cert !== undefined ? 'yes' : 'no' },
        logger,
      )
    : undefined;
  const running = server;
  const janitor = startJanitor(settings, logger);
  const watcher = reload === undefined ? undefined : watchConfig(settings, reload, logger, (next) => {
    running.setTokens(next.tokens);
    running.setWorkerTokens(next.workerTokens);
    logger.level = next.logLevel;
  });
  let off = (): void => undefined;
  await new Promise<void>((resolve) => {
    off = onStopSignals(
      () => {
        void announcement?.stop();
        void running.drain().then(resolve);
      },
      () => {
        logger.warn('second signal: stopping now');
        running.stop();
        resolve();
      },
    );
  });
  off();
  janitor.stop();
  await Promise.all([watcher?.close(), announcement?.stop()]);
  return 0;
}

/** How often the server trims the cache to cache_max_size. */
const TRIM_EVERY_MS = 10 * 60_000;

/** A server that sees the cache directory is its janitor: it trims it now and then, never on a compile's path. */
function startJanitor(settings: Settings, logger: Logger): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let trimming = false;
  const trim = (): void => {
    if (trimming) return;
    trimming = true;
    trimCache(settings.cacheDir, settings.cacheMaxSizeBytes)
      .then((r) => {
        if (r.removed > 0) logger.info(`cache trimmed: removed ${r.removed} entries (${r.freedBytes} bytes); ${r.usage.bytes} bytes remain`);
      }, (err: unknown) => logger.warn(`could not trim the cache ${settings.cacheDir}: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        trimming = false;
      });
  };
  void stat(settings.cacheDir).then((st) => st.isDirectory(), (err: unknown) => {
    if (errnoCode(err) === undefined) throw err;
    return false;
  }).then((isDir) => {
    if (stopped) return;
    if (!isDir) {
      logger.debug(`not trimming the cache: ${settings.cacheDir} is not a directory here (setting cache_dir)`);
      return;
    }
    logger.info(`trimming the cache ${settings.cacheDir} to ${settings.cacheMaxSizeBytes} bytes every ${TRIM_EVERY_MS / 60_000} minutes (cache_max_size)`);
    trim();
    timer = setInterval(trim, TRIM_EVERY_MS);
    timer.unref();
  });
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
