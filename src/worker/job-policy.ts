// What a worker agrees to run: allowlisted executables by their checked real path, known flags, writes inside its mount.
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import { checkFlags } from '../common/flag-policy.js';
import { isUnder } from '../common/mount-path.js';
import { isExecutableStat, realExecutable } from '../common/find-executable.js';
import { whichSync } from './capabilities.js';
import { confinedPath } from './confined-path.js';

export interface JobPolicy {
  /** Real paths of the executables this worker runs. */
  readonly allowed: ReadonlySet<string>;
  /** Options this worker accepts although they load code or are not in its table (setting allow_flags). */
  readonly allowFlags: readonly string[];
  /** Allowlist entries left out because they resolve onto the shared mount, where any client could replace them. */
  readonly onMount: readonly string[];
  /** Executable found on PATH by bare name → its real path (undefined: not found): PATH is searched once per name. */
  readonly byName: Map<string, string | undefined>;
  /** The real path of the mount setting, resolved when the policy is made (the administrator's path, trusted). */
  readonly realMount: string;
  /**
   * Executable named by a path → the file it was last (device, inode) and that file's real path.
   * Safe to reuse while the path leads to the same file: the worker runs the real path, never the name.
   */
  readonly byPath: Map<string, { readonly dev: number; readonly ino: number; readonly real: string | undefined }>;
}

export interface JobPolicyOptions {
  readonly allowlist: readonly string[];
  readonly allowFlags: readonly string[];
  readonly mount: string;
  /** Setting allow_mount_executables: allowlist entries on the mount are kept. */
  readonly allowMountExecutables: boolean;
}

export const DEFAULT_ALLOWLIST = ['gcc', 'g++', 'cc', 'c++', 'clang', 'clang++', 'ar', 'ranlib'];

export function createJobPolicy(options: JobPolicyOptions): JobPolicy {
  const realMount = realpathSync.native(options.mount);
  const allowed = new Set<string>();
  const onMount: string[] = [];
  for (const real of resolveAllowlist(options.allowlist.length > 0 ? options.allowlist : DEFAULT_ALLOWLIST)) {
    if (!options.allowMountExecutables && isUnder(real, realMount)) onMount.push(real);
    else allowed.add(real);
  }
  return { allowed, allowFlags: options.allowFlags, onMount, byName: new Map(), realMount, byPath: new Map() };
}

/** The real path of an executable file, or undefined if there is none (at start-up: sync). */
function realExecutableSync(where: string | undefined): string | undefined {
  if (where === undefined) return undefined;
  try {
    return realpathSync.native(where);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return undefined; // vanished between the PATH search and here
  }
}

/**
 * The real path of the executable `tool` names. A bare name is searched on this worker's PATH
 * (once); a path (relative to `cwd`) is resolved on every job, since the file it names may change.
 */
async function resolveTool(tool: string, cwd: string, policy: JobPolicy): Promise<string | undefined> {
  if (tool.includes('/')) return resolvePath(tool.startsWith('/') ? tool : `${cwd}/${tool}`, policy);
  if (!policy.byName.has(tool)) policy.byName.set(tool, await realExecutable(tool, cwd, process.env.PATH ?? ''));
  return policy.byName.get(tool);
}

/** The real path of the executable file at `file`, on every job (one stat, and a realpath when the file changed). */
async function resolvePath(file: string, policy: JobPolicy): Promise<string | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return undefined;
  }
  if (!isExecutableStat(st)) return undefined;
  const known = policy.byPath.get(file);
  if (known !== undefined && known.dev === st.dev && known.ino === st.ino) return known.real;
  let real: string | undefined;
  try {
    real = await realpath(file);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    real = undefined; // vanished since the stat
  }
  if (policy.byPath.size >= 10_000) policy.byPath.clear();
  policy.byPath.set(file, { dev: st.dev, ino: st.ino, real });
  return real;
}

/** Resolves allowlist entries (names on PATH or paths) to real paths; unknown ones are skipped. */
function resolveAllowlist(entries: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const entry of entries) {
    const real = realExecutableSync(whichSync(entry));
    if (real !== undefined) out.add(real);
  }
  return out;
}

/** What the policy decided about a job: run `executable` (the real path it checked), or refuse it. */
export type PolicyVerdict =
  | {
      readonly type: 'ok';
      readonly executable: string;
      /** Each output as written → where it really lands (resolved once here), as a path under the mount setting. */
      readonly realPaths: ReadonlyMap<string, string>;
    }
  | { readonly type: 'refused'; readonly reason: string }
  /** This worker cannot run it, another may: something it needs is not here (`cwdMissing`: its working directory). */
  | { readonly type: 'unfit'; readonly reason: string; readonly cwdMissing?: boolean };

const refused = (reason: string): PolicyVerdict => ({ type: 'refused', reason });
const unfit = (reason: string): PolicyVerdict => ({ type: 'unfit', reason });

/**
 * Checks a job whose `argv` is in this worker's paths with response files expanded. `outputs`
 * are the outputs the command-line parser found; every path any flag writes is checked too.
 */
export async function checkJob(argv: readonly string[], cwd: string, mount: string, outputs: readonly string[], policy: JobPolicy): Promise<PolicyVerdict> {
  const tool = argv[0] ?? '';
  const real = await resolveTool(tool, cwd, policy);
  if (real === undefined) return unfit(`the executable "${tool}" is not installed on this worker`);
  if (!policy.allowed.has(real)) {
    const why = policy.onMount.includes(real) ? ', which is on the shared mount where any client could replace it (setting allow_mount_executables)' : ' (setting compiler_allowlist)';
    return refused(`the executable "${tool}" (${real}) is not on this worker's allowlist${why}`);
  }
  const flags = checkFlags(argv, policy.allowFlags);
  if (flags.type === 'refused') return refused(flags.reason);
  const { realMount } = policy;
  let realCwd: string;
  try {
    realCwd = await realpath(cwd);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return { type: 'unfit', reason: `the working directory ${cwd} does not exist on this worker`, cwdMissing: true };
  }
  if (!isUnder(realCwd, realMount)) return refused(`the working directory ${cwd} resolves to ${realCwd}, outside the mount ${mount}`);
  const realPaths = new Map<string, string>();
  for (const written of [...outputs, ...flags.writes.map((w) => w.path)]) {
    if (realPaths.has(written)) continue;
    const where = await confinedPath(written, realCwd, realMount);
    if (where.type === 'outside') return refused(`the output ${written} resolves to ${where.real}, outside the mount ${mount}`);
    if (where.type === 'missing-dir') return unfit(`the output ${written} is in a directory that does not exist on this worker`);
    if (where.type === 'invalid') return refused(`the output ${written} ${where.why}`);
    // Spelled under the mount as configured (which may itself be a symlink), so it maps to the client's paths.
    realPaths.set(written, where.real === realMount ? mount : path.join(mount, where.real.slice(realMount.length)));
  }
  return { type: 'ok', executable: real, realPaths };
}
