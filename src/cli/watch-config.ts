// Hot reload: watches the TOML config files (and token_file, worker_token_file) with chokidar and applies the settings that can change live.
import chokidar, { type FSWatcher } from 'chokidar';
import type { Logger } from '../common/logger.js';
import { defaultConfigPaths } from '../config/resolve-settings.js';
import type { Settings } from '../config/settings.js';

/**
 * Calls `apply` with freshly resolved settings after each change to the config file(s) or
 * the token file. A file that does not parse, or settings `apply` refuses (it throws), are
 * logged and the running settings stay.
 */
export function watchConfig(settings: Settings, reload: () => Promise<Settings>, logger: Logger, apply: (next: Settings) => void): FSWatcher {
  const files = settings.config !== undefined ? [settings.config] : defaultConfigPaths(process.env);
  if (settings.tokenFile !== undefined) files.push(settings.tokenFile);
  if (settings.workerTokenFile !== undefined) files.push(settings.workerTokenFile);
  const watcher = chokidar.watch(files, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 } });
  let timer: NodeJS.Timeout | undefined;
  watcher.on('all', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      reload()
        .then((next) => {
          apply(next);
          logger.info(`reloaded ${files.join(', ')}`);
        })
        .catch((err: unknown) => logger.error(`not reloading: ${(err as Error).message}; keeping the current settings`));
    }, 50);
  });
  return watcher;
}
