// A worker's private directory for its scratch files (response-file copies), and the cleanup of those left by dead workers.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import type { Logger } from '../common/logger.js';

/** Scratch directories are named PREFIX + the owning process's pid. */
const PREFIX = 'distbuild-worker-';

/** True if process `pid` is alive (or not ours to signal: then it is alive too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ESRCH';
  }
}

/**
 * Removes the scratch directories of workers that died without cleaning up (a crash, SIGKILL),
 * then makes this process's own (0700). Returns its path; `remove` it when the worker stops.
 */
export function createScratchDir(logger: Logger, base = os.tmpdir()): { readonly dir: string; remove(): void } {
  for (const name of readdirSync(base)) {
    const pid = Number(name.slice(PREFIX.length));
    if (!name.startsWith(PREFIX) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(path.join(base, name), { recursive: true, force: true });
    logger.info(`removed the scratch files of a worker that is gone (pid ${pid}) from ${base}`);
  }
  const dir = path.join(base, `${PREFIX}${process.pid}`);
  rmSync(dir, { recursive: true, force: true }); // a reused pid's leftovers
  mkdirSync(dir, { mode: 0o700 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
