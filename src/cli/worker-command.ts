// `distbuild --worker`: runs a worker until a signal drains it.
import { existsSync } from 'node:fs';
import { createLogger, type Logger } from '../common/logger.js';
import type { Settings } from '../config/settings.js';
import { findCompilers } from '../worker/capabilities.js';
import { serveMetrics } from '../common/metrics-http.js';
import { findServer } from '../discovery/find-server.js';
import { serverChannelOptions } from '../common/server-channel.js';
import { watchConfig } from './watch-config.js';
import { createJobPolicy, type JobPolicy } from '../worker/job-policy.js';
import { createWorkerMetrics } from '../worker/worker-metrics.js';
import { createCacheWriter } from '../worker/cache-writer.js';
import { createFileHashes } from '../common/file-hashes.js';
import { startWorker, type Worker } from '../worker/worker.js';
import { onStopSignals } from './signals.js';

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export async function workerCommand(settings: Settings, reload?: () => Promise<Settings>): Promise<number> {
  const logger = createLogger({ level: settings.logLevel, role: `worker ${settings.name}` });
  if (process.getuid?.() === 0 && !settings.allowRoot) {
    process.stderr.write('distbuild: refusing to run a worker as root: its jobs would run as root on the shared tree. Run it as an unprivileged user, or pass --allow-root (allow_root = true) if you must\n');
    return 2;
  }
  if (!existsSync(settings.fsMount)) {
    process.stderr.write(`distbuild: the mount ${settings.fsMount} does not exist on this host; mount the shared filesystem there or pass --fs-mount=DIR\n`);
    return 2;
  }
  if (settings.cache === 'true') logger.info(`storing the results of cacheable compiles in ${settings.cacheDir} (cache_dir; cache = read-only or false stops it)`);
  const compilers = await findCompilers();
  logger.info(`compilers: ${compilers.map((c) => `${c.name} (${c.version})`).join(', ') || 'none found'}`);
  let current: Worker | undefined;
  /** The settings in force, as hot reload changes them. */
  let live = settings;
  const metrics = createWorkerMetrics(() => ({ running: current?.running() ?? 0, max: live.maxJobs }));
  const http = settings.httpPort === undefined ? undefined : await serveMetrics(metrics.registry, settings.httpHost, settings.httpPort);
  if (http !== undefined) process.stdout.write(`distbuild worker metrics on http://${settings.httpHost}:${http.port}/metrics\n`);
  const worker = startWorker({
    metrics,
    token: settings.workerTokens[0] ?? settings.tokens[0],
    maxOutputBytes: settings.maxOutputBytes,
    argLimits: { maxJobArgs: settings.maxJobArgs, maxArgBytes: settings.maxArgBytes },
    channel: serverChannelOptions(settings),
    policy: policyOf(settings, logger),
    findServer: () => findServer({ ...settings, sendsToken: (settings.workerTokens[0] ?? settings.tokens[0]) !== undefined, tlsCa: settings.tls.ca }, logger),
    mount: settings.fsMount,
    name: settings.name,
    maxJobs: settings.maxJobs,
    canLink: !settings.disableLinking,
    compilers,
    envAllowlist: settings.envAllowlist,
    connectTimeoutMs: settings.connectTimeoutMs,
    maxDirsTracked: settings.maxDirsTracked,
    dirReportIntervalMs: settings.dirReportIntervalMs,
    logger,
    cache: settings.cache === 'true' ? createCacheWriter({ dir: settings.cacheDir, mount: settings.fsMount, hashes: createFileHashes() }) : undefined,
  });
  const off = onStopSignals(
    () => void worker.drain(),
    () => {
      logger.warn('second signal: stopping now, killing running jobs');
      worker.stop();
    },
  );
  current = worker;
  const watcher = reload === undefined ? undefined : watchConfig(settings, reload, logger, (next) => {
    worker.setMaxJobs(next.maxJobs);
    logger.level = next.logLevel;
    if (!sameList(next.compilerAllowlist, live.compilerAllowlist) || !sameList(next.allowFlags, live.allowFlags) || next.allowMountExecutables !== live.allowMountExecutables) {
      worker.setPolicy(policyOf(next, logger));
    }
    live = next;
  });
  await worker.done;
  await watcher?.close();
  http?.close();
  off();
  return 0;
}

/** The job policy of `settings`, warning about allowlist entries left out because they are on the mount. */
function policyOf(settings: Settings, logger: Logger): JobPolicy {
  const policy = createJobPolicy({
    allowlist: settings.compilerAllowlist, allowFlags: settings.allowFlags, mount: settings.fsMount, allowMountExecutables: settings.allowMountExecutables,
  });
  for (const real of policy.onMount) {
    logger.warn(`compiler allowlist: ${real} is on the shared mount, where any client could replace it; left out (set allow_mount_executables to run it)`);
  }
  return policy;
}
