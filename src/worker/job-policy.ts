// What a worker agrees to run: allowlisted executables, paths inside its mount, no code-loading flags.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import { isUnder } from '../common/mount-path.js';
import { whichSync } from './capabilities.js';

export interface JobPolicy {
  /** Real paths of the executables this worker runs. */
  readonly allowed: ReadonlySet<string>;
  /** Risky flags this worker accepts anyway (`-fplugin`, `-specs`, `-B`, `-wrapper`). */
  readonly allowFlags: readonly string[];
  /** Executable as named in a job → its real path (undefined: not found), so PATH is searched once per name. */
  readonly resolved: Map<string, string | undefined>;
}

export function createJobPolicy(allowlist: readonly string[], allowFlags: readonly string[]): JobPolicy {
  return { allowed: resolveAllowlist(allowlist.length > 0 ? allowlist : DEFAULT_ALLOWLIST), allowFlags, resolved: new Map() };
}

/** The real path of the executable `tool` names (relative to `cwd` if it has a slash). */
function resolveTool(tool: string, cwd: string, cache: Map<string, string | undefined>): string | undefined {
  const key = tool.includes('/') ? path.resolve(cwd, tool) : tool;
  if (cache.has(key)) return cache.get(key);
  const where = whichSync(key);
  let real: string | undefined;
  try {
    real = where === undefined ? undefined : realpathSync.native(where);
  } catch {
    real = undefined;
  }
  cache.set(key, real);
  return real;
}

/** Resolves allowlist entries (names on PATH or paths) to real paths; unknown ones are skipped. */
export function resolveAllowlist(entries: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const entry of entries) {
    const where = whichSync(entry);
    if (where === undefined) continue;
    try {
      out.add(realpathSync.native(where));
    } catch {
      // vanished
    }
  }
  return out;
}

export const DEFAULT_ALLOWLIST = ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++', 'ar', 'ranlib'];

const RISKY: ReadonlyArray<{ flag: string; test: (arg: string) => boolean }> = [
  { flag: '-fplugin', test: (a) => a.startsWith('-fplugin') },
  { flag: '-specs', test: (a) => a.startsWith('-specs') || a.startsWith('--specs') },
  { flag: '-B', test: (a) => a.startsWith('-B') },
  { flag: '-wrapper', test: (a) => a === '-wrapper' },
];

/** Why the job must be refused, or undefined. `argv` is already in this worker's paths. */
export function policyViolation(argv: readonly string[], cwd: string, mount: string, outputs: readonly string[], policy: JobPolicy): string | undefined {
  const tool = argv[0] ?? '';
  const real = resolveTool(tool, cwd, policy.resolved);
  if (real === undefined || !policy.allowed.has(real)) {
    return `the executable "${tool}"${real !== undefined ? ` (${real})` : ''} is not on this worker's allowlist (setting compiler_allowlist)`;
  }
  for (const arg of argv.slice(1)) {
    const risky = RISKY.find((r) => r.test(arg));
    if (risky !== undefined && !policy.allowFlags.includes(risky.flag)) {
      return `the flag "${arg}" can load code or write outside the build, and this worker does not allow ${risky.flag} (setting allow_flags)`;
    }
  }
  const realMount = realpathSync.native(mount);
  let realCwd: string;
  try {
    realCwd = realpathSync.native(cwd);
  } catch {
    return `the working directory ${cwd} does not exist on this worker`;
  }
  if (!isUnder(realCwd, realMount)) return `the working directory ${cwd} resolves to ${realCwd}, outside the mount ${mount}`;
  /** Output directories resolved so far: a compile's object and depfile share one. */
  const dirs = new Map<string, string>();
  for (const output of outputs) {
    const abs = path.resolve(realCwd, output);
    let dir = dirs.get(path.dirname(abs));
    if (dir === undefined) {
      try {
        dir = realpathSync.native(path.dirname(abs));
      } catch (err) {
        if (errnoCode(err) === undefined) throw err;
        return `the output ${output} is in a directory that does not exist on this worker`;
      }
      dirs.set(path.dirname(abs), dir);
    }
    if (!isUnder(path.join(dir, path.basename(abs)), realMount)) return `the output ${output} resolves to ${path.join(dir, path.basename(abs))}, outside the mount ${mount}`;
  }
  return undefined;
}
