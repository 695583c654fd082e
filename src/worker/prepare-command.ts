// Turns a job into the command this worker runs: its own mount paths, temporary output names.
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import path from 'node:path';
import { parseCommandLine, type CommandLine } from '../common/command-line.js';
import { isAllowedJobEnv } from '../common/job-env.js';
import { argLimitViolation, type ArgLimits } from '../common/job-limits.js';
import { InvalidJobError, WorkerUnfitError } from './invalid-job-error.js';
import { createCompilerIdentities } from '../common/compiler-identity.js';

/** This worker's compilers, identified once per binary (path, size, mtime). */
const identities = createCompilerIdentities();
import { checkJob, type JobPolicy } from './job-policy.js';
import { resolveResponseFiles, writePrivateResponseFile } from './response-files.js';
import { translateCommand } from './translate-command.js';
import { fromMountRelative, isUnder, translateText } from '../common/mount-path.js';
import type { Job } from '../protocol/messages.js';

export { InvalidJobError };

/** An output the command writes under a temporary name, renamed into place on success. */
export interface PendingOutput {
  /** Absolute path the compiler writes. */
  readonly temp: string;
  /** Absolute path it is published at. */
  readonly final: string;
  readonly role: 'output' | 'depfile' | 'map' | 'implib';
  /** The command updates the file: the temporary name starts as a copy of it (if it exists). */
  readonly updates?: boolean;
}

export interface PreparedCommand {
  /** The executable run: the real path the policy checked (or argv[0] as given, without a policy). */
  readonly file: string;
  /** argv[0] as the command sees it: the job's name for it, unless that names a file the client controls. */
  readonly argv0: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly outputs: PendingOutput[];
  /** Files to delete after the run (the private response file). */
  readonly scratch: string[];
}

export interface PrepareOptions {
  /** What this worker agrees to run; undefined: anything (tests of translation only). */
  readonly policy?: JobPolicy;
  readonly mount: string;
  readonly attemptId: string;
  readonly envAllowlist: readonly string[];
  /** Caps on the command line (max_job_args, max_arg_bytes); undefined: none (tests of translation only). */
  readonly argLimits?: ArgLimits;
  /** Where the private response file goes (the worker's scratch directory; default: the temporary directory). */
  readonly scratchDir?: string;
}

export async function prepareCommand(job: Job, options: PrepareOptions): Promise<PreparedCommand> {
  const { mount } = options;
  const from = job.clientMount;
  const cwd = path.resolve(fromMountRelative(job.cwd, mount));
  if (!isUnder(cwd, mount)) throw new InvalidJobError(`the job's cwd "${job.cwd}" lies outside the mount`);
  /** The cwd is not here: this worker's mount is missing, or another host's new directory is not visible yet. */
  const cwdMissing = async (): Promise<never> => {
    const missing = await mountMissing(mount);
    if (missing !== undefined) throw new WorkerUnfitError(missing, true);
    throw new WorkerUnfitError(`the job's working directory ${cwd} does not exist on this worker; is --fs-mount=${mount} the same filesystem as the client's ${from}?`);
  };
  // With a policy, its realpath of the cwd tells; without one (tests of translation), a stat.
  if (options.policy === undefined && (await statOrUndefined(cwd))?.isDirectory() !== true) await cwdMissing();

  const tooLarge = options.argLimits === undefined ? undefined : argLimitViolation(job.argv, options.argLimits, 'worker');
  if (tooLarge !== undefined) throw new InvalidJobError(tooLarge);
  // Same mount path on both hosts (the usual case): nothing to translate, one parse.
  const original = parseCommandLine(job.argv);
  const rsp = await resolveResponseFiles(translateCommand(job.argv, from, mount, original.mode === 'compile'), cwd, mount, from, options.policy?.realMount);
  if (options.argLimits !== undefined && rsp.any) {
    const expandedTooLarge = argLimitViolation(rsp.expanded, options.argLimits, 'worker');
    if (expandedTooLarge !== undefined) throw new InvalidJobError(`with its response files expanded, ${expandedTooLarge}`);
  }
  // Checked and run with response files expanded: the compiler gets exactly what was checked.
  const argv = rsp.expanded;
  const cl = from === mount && !rsp.any ? original : parseCommandLine(argv);
  let file = argv[0] ?? '';
  let argv0 = file;
  let realOf: (p: string) => string | undefined = () => undefined;
  if (options.policy !== undefined) {
    const verdict = await checkJob(argv, cwd, mount, cl.outputs.map((o) => o.path), options.policy);
    if (verdict.type === 'refused') throw new InvalidJobError(verdict.reason);
    if (verdict.type === 'unfit' && verdict.cwdMissing === true) await cwdMissing();
    if (verdict.type === 'unfit') throw new WorkerUnfitError(verdict.reason);
    if (job.compiler !== '') {
      const mine = await identities.of(verdict.executable);
      if (mine !== job.compiler) {
        throw new WorkerUnfitError(`this worker's ${argv0} (${verdict.executable}) is ${mine === '' ? 'not one it can identify' : `"${mine}"`}, the client's is "${job.compiler}": its objects would differ`);
      }
    }
    file = verdict.executable;
    argv0 = safeArgv0(argv0, verdict.executable, cwd, mount);
    realOf = (p) => verdict.realPaths.get(p);
  }
  const outputs = stageOutputs(argv, cl, cwd, options.attemptId, realOf);
  const scratch: string[] = [];
  if (rsp.any) {
    const copy = await writePrivateResponseFile(argv.slice(1), options.attemptId, options.scratchDir);
    scratch.push(copy);
    argv.splice(1, argv.length - 1, `@${copy}`);
  }

  const env: Record<string, string> = {};
  for (const name of ['PATH', 'TMPDIR', 'HOME']) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [name, value] of Object.entries(job.env)) {
    if (isAllowedJobEnv(name, options.envAllowlist)) env[name] = translateText(value, from, mount);
  }
  return { file, argv0, args: argv.slice(1), cwd, env, outputs, scratch };
}

async function statOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await stat(p);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
    return undefined; // ENOENT, ENOTDIR, EACCES…: not a usable directory here
  }
}

/** Why this worker's mount is missing (not a directory, or empty: not mounted), or undefined. */
async function mountMissing(mount: string): Promise<string | undefined> {
  if ((await statOrUndefined(mount))?.isDirectory() !== true) return `this worker's mount ${mount} is missing (setting fs_mount)`;
  if ((await readdir(mount)).length === 0) return `this worker's mount ${mount} is empty: is the shared filesystem mounted? (setting fs_mount)`;
  return undefined;
}

/**
 * argv[0] for the command. A name that is a path on the mount (or through `..`) could be swapped
 * after the check, and gcc finds its own programs from argv[0]: such a name becomes the checked
 * executable's directory plus the name's base name (clang++ still sees "clang++").
 */
function safeArgv0(name: string, executable: string, cwd: string, mount: string): string {
  if (!name.includes('/')) return name;
  if (!name.split('/').includes('..') && !isUnder(path.resolve(cwd, name), mount)) return name;
  return path.join(path.dirname(executable), path.basename(name));
}

/**
 * Points each output at a temporary name in its real directory (resolved by the policy, so a
 * symlink swapped after the check does not move it), renamed into place on success. When the
 * command's flags derive other files' names (or recorded text) from the -o name, -o stays and
 * is written in place, but each output is still reported (so the client waits for it), and a
 * depfile named by -MF is still staged, since nothing is derived from its name.
 */
function stageOutputs(argv: string[], cl: CommandLine, cwd: string, attemptId: string, realOf: (p: string) => string | undefined): PendingOutput[] {
  const outputs: PendingOutput[] = [];
  const tag = attemptId.slice(0, 8);
  const tempName = (base: string): string => `.${base}.distbuild-${tag}.tmp`;
  const finalOf = (p: string): string => realOf(p) ?? path.resolve(cwd, p);
  const tempOf = (p: string): string => {
    const real = realOf(p);
    return real === undefined ? path.join(path.dirname(p), tempName(path.basename(p))) : path.join(path.dirname(real), tempName(path.basename(real)));
  };
  for (const o of cl.outputs) {
    if (o.inPlace === true || (cl.outputNameLeaks && o.role !== 'depfile')) {
      outputs.push({ temp: finalOf(o.path), final: finalOf(o.path), role: o.role });
      continue;
    }
    const temp = tempOf(o.path);
    argv[o.index] = o.prefix + temp + o.suffix;
    outputs.push({ temp: path.resolve(cwd, temp), final: finalOf(o.path), role: o.role, ...(o.updates === true ? { updates: true } : {}) });
  }
  const output = cl.outputs.find((o) => o.role === 'output');
  if (output === undefined || cl.mode !== 'compile' || !(cl.depfileImplicit || cl.depTargetImplicit)) return outputs;
  const dep = (dir: string): string => path.join(dir, path.basename(output.path).replace(/\.[^./]*$/, '') + '.d');
  if (cl.outputNameLeaks) {
    // -o keeps its name: so does the depfile gcc derives from it.
    if (cl.depfileImplicit) outputs.push({ temp: dep(path.dirname(finalOf(output.path))), final: dep(path.dirname(finalOf(output.path))), role: 'depfile' });
    return outputs;
  }
  // gcc names an implicit depfile and its target after -o: keep the real names.
  if (cl.depTargetImplicit) argv.push('-MQ', output.path);
  if (cl.depfileImplicit) {
    const temp = path.join(path.dirname(tempOf(output.path)), tempName(path.basename(dep('.'))));
    argv.push('-MF', temp);
    outputs.push({ temp: path.resolve(cwd, temp), final: dep(path.dirname(finalOf(output.path))), role: 'depfile' });
  }
  return outputs;
}
