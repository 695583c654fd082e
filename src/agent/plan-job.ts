// Decides where a launcher's command runs and, for the farm, which job it is: mount paths, locality dirs, outputs.
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { localOnlyReason, parseCommandLine, type CommandLine } from '../common/command-line.js';
import { depfileEnvIn, pickJobEnvEntries } from '../common/job-env.js';
import { isUnder, toMountRelative } from '../common/mount-path.js';
import type { Settings } from '../config/settings.js';
import type { Job } from '../protocol/messages.js';
import { farmFlagsRefusal } from './farm-flags.js';
import { createCompilerIdentities, isIdentifiedCompiler } from '../common/compiler-identity.js';
import { realExecutable } from '../common/find-executable.js';

/** The client's compilers, identified once per binary for the agent's life. */
const identities = createCompilerIdentities();

/** The compiler `command` runs, as the client's PATH finds it: its real path and identity ("" for tools not identified). */
async function compilerOf(command: readonly string[], cwd: string, env: readonly string[]): Promise<{ real: string; identity: string }> {
  const tool = command[0] ?? '';
  if (!isIdentifiedCompiler(tool)) return { real: '', identity: '' };
  const searchPath = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  const real = await realExecutable(tool, cwd, searchPath);
  return real === undefined ? { real: '', identity: '' } : { real, identity: await identities.of(real) };
}

export type JobPlan =
  | { readonly where: 'local'; readonly reason: string; readonly label: string }
  | {
      readonly where: 'remote';
      readonly job: Job;
      /** The client's mount path as its paths are written (as given, or with symlinks resolved). */
      readonly mount: string;
      readonly label: string;
      /** The real path of the compiler the job runs ("" for tools not identified). */
      readonly compiler: string;
      /** The command, parsed. */
      readonly cl: CommandLine;
    };

export interface PlanInput {
  readonly mode: 'compiler' | 'linker';
  readonly command: readonly string[];
  readonly settings: Settings;
  /** The client's working directory (getcwd: symlinks resolved). */
  readonly cwd: string;
  /** The client's environment, "NAME=VALUE" entries. */
  readonly env: readonly string[];
  readonly id: string;
  readonly pid: number;
  /** Some argument was not valid UTF-8 (it cannot travel in a job). */
  readonly lossy: boolean;
}

/** The host name, read once: it names the client in status lines. */
const HOST = os.hostname();

/** `p` with symlinks resolved, or undefined if it does not exist. */
async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await realpath(p);
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'string') return undefined;
    throw err;
  }
}

/** What a person recognises in a verbose line: the source of a compile, the output of a link. */
export function describe(cl: CommandLine, mode: 'compiler' | 'linker'): string {
  const output = cl.outputs.find((o) => o.role === 'output')?.path;
  if (mode === 'linker' || cl.mode === 'link') return output ?? cl.inputs[0] ?? cl.argv[0] ?? '';
  return cl.inputs[0] ?? output ?? cl.argv[0] ?? '';
}

/** A compile's source or output outside the mount cannot be seen or written by a worker. */
function outsideMount(cl: CommandLine, cwd: string, mount: string, mode: 'compiler' | 'linker'): string | undefined {
  for (const o of cl.outputs) {
    if (!isUnder(path.resolve(cwd, o.path), mount)) return `the output ${o.path} is outside the mount`;
  }
  if (mode === 'compiler' && cl.mode === 'compile') {
    for (const i of cl.inputs) {
      if (!isUnder(path.resolve(cwd, i), mount)) return `the input ${i} is outside the mount`;
    }
  }
  return undefined;
}

/** Locality hints, most telling first: the source's directory, the output's, then -I directories. */
function localityDirs(cl: CommandLine, rel: (p: string) => string | undefined): string[] {
  const dirs = new Set<string>();
  const mainOutput = cl.outputs.find((o) => o.role === 'output')?.path;
  for (const p of [cl.inputs[0], mainOutput]) {
    const r = p === undefined ? undefined : rel(path.dirname(p));
    if (r !== undefined) dirs.add(r);
  }
  for (const d of cl.includeDirs) {
    const r = rel(d);
    if (r !== undefined) dirs.add(r);
  }
  return [...dirs];
}

export async function planJob(input: PlanInput): Promise<JobPlan> {
  const { settings, mode } = input;
  const cl = parseCommandLine(input.command);
  const label = describe(cl, mode);
  const local = (reason: string): JobPlan => ({ where: 'local', reason, label });
  if (input.lossy) return local('an argument is not valid UTF-8, which a job cannot carry');

  // Paths are compared as written first (what CMake wrote), then with symlinks resolved. A cwd
  // under the mount as written proves that the mount exists: no system call is needed.
  let mount = settings.fsMount;
  let cwd = path.resolve(input.cwd);
  let cwdRel = toMountRelative(cwd, mount);
  if (cwdRel === undefined) {
    const [physicalMount, physicalCwd] = await Promise.all([realpathOrUndefined(settings.fsMount), realpathOrUndefined(input.cwd)]);
    if (physicalMount === undefined) return local(`the mount ${settings.fsMount} does not exist on this host (setting fs_mount)`);
    mount = physicalMount;
    cwd = physicalCwd ?? cwd;
    cwdRel = toMountRelative(cwd, mount);
  }
  if (cwdRel === undefined) return local(`the working directory ${cwd} is outside the mount ${settings.fsMount}`);
  const reason = localOnlyReason(cl) ?? outsideMount(cl, cwd, mount, mode);
  if (reason !== undefined) return local(reason);
  const depEnv = depfileEnvIn(input.env);
  if (depEnv !== undefined) return local(`${depEnv} is set: gcc would write the dependency file it names, which the farm does not confine`);
  const refusal = await farmFlagsRefusal(input.command, cwd, settings.allowFlags);
  if (refusal !== undefined) return local(refusal);

  const rel = (p: string): string | undefined => toMountRelative(path.resolve(cwd, p), mount);
  const compiler = await compilerOf(input.command, cwd, input.env);
  const job: Job = {
    id: input.id,
    kind: mode === 'linker' || cl.mode === 'link' ? 'JOB_KIND_LINK' : 'JOB_KIND_COMPILE',
    argv: [...input.command],
    cwd: cwdRel,
    clientMount: mount,
    env: pickJobEnvEntries(input.env, settings.envAllowlist),
    dirs: localityDirs(cl, rel),
    timeoutMs: 0,
    client: `${HOST}:${input.pid}`,
    outputs: cl.outputs.map((o) => rel(o.path)).filter((p): p is string => p !== undefined),
    compiler: compiler.identity,
    cacheStore: settings.cache !== 'false',
  };
  return { where: 'remote', job, mount, label, compiler: compiler.real, cl };
}
