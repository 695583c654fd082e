// Turns a job into the command this worker runs: its own mount paths, temporary output names.
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseCommandLine } from '../common/command-line.js';
import { isAllowedJobEnv } from '../common/job-env.js';
import { argLimitViolation, type ArgLimits } from '../common/job-limits.js';
import { InvalidJobError } from './invalid-job-error.js';
import { policyViolation, type JobPolicy } from './job-policy.js';
import { resolveResponseFiles, writeResponseCopies } from './response-files.js';
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
}

export interface PreparedCommand {
  readonly file: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly outputs: PendingOutput[];
  /** Files to delete after the run (translated response files). */
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
}

export function prepareCommand(job: Job, options: PrepareOptions): PreparedCommand {
  const { mount } = options;
  const from = job.clientMount;
  const cwd = path.resolve(fromMountRelative(job.cwd, mount));
  if (!isUnder(cwd, mount)) throw new InvalidJobError(`the job's cwd "${job.cwd}" lies outside the mount`);
  if (statSync(cwd, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new InvalidJobError(
      `the job's working directory ${cwd} does not exist on this worker; is --fs-mount=${mount} the same filesystem as the client's ${from}?`,
    );
  }

  const tooLarge = options.argLimits === undefined ? undefined : argLimitViolation(job.argv, options.argLimits, 'worker');
  if (tooLarge !== undefined) throw new InvalidJobError(tooLarge);
  // Same mount path on both hosts (the usual case): nothing to translate, one parse.
  const original = parseCommandLine(job.argv);
  const argv = translateCommand(job.argv, from, mount, original.mode === 'compile');
  const rsp = resolveResponseFiles(argv, cwd, mount, from);
  if (options.argLimits !== undefined && rsp.any) {
    const expandedTooLarge = argLimitViolation(rsp.expanded, options.argLimits, 'worker');
    if (expandedTooLarge !== undefined) throw new InvalidJobError(`with its response files expanded, ${expandedTooLarge}`);
  }

  const outputs: PendingOutput[] = [];
  const cl = from === mount ? original : parseCommandLine(argv);
  if (options.policy !== undefined) {
    // Checked with response files expanded: a flag or an output inside one counts as on the command line.
    const all = rsp.any ? parseCommandLine(rsp.expanded) : cl;
    const violation = policyViolation(rsp.expanded, cwd, mount, all.outputs.map((o) => o.path), options.policy);
    if (violation !== undefined) throw new InvalidJobError(violation);
  }
  const scratch = writeResponseCopies(argv, rsp, options.attemptId);
  if (!cl.outputNameLeaks) {
    const tag = options.attemptId.slice(0, 8);
    const tempOf = (p: string): string => path.join(path.dirname(p), `.${path.basename(p)}.distbuild-${tag}.tmp`);
    const output = cl.outputs.find((o) => o.role === 'output');
    for (const o of cl.outputs) {
      if (o.inPlace === true) {
        const abs = path.resolve(cwd, o.path);
        outputs.push({ temp: abs, final: abs, role: o.role });
        continue;
      }
      const temp = tempOf(o.path);
      argv[o.index] = o.prefix + temp + o.suffix;
      outputs.push({ temp: path.resolve(cwd, temp), final: path.resolve(cwd, o.path), role: o.role });
    }
    if (output !== undefined && cl.mode === 'compile') {
      // gcc names an implicit depfile and its target after -o: keep the real names.
      if (cl.depTargetImplicit) argv.push('-MQ', output.path);
      if (cl.depfileImplicit) {
        const dep = output.path.replace(/\.[^./]*$/, '') + '.d';
        argv.push('-MF', tempOf(dep));
        outputs.push({ temp: path.resolve(cwd, tempOf(dep)), final: path.resolve(cwd, dep), role: 'depfile' });
      }
    }
  }

  const env: Record<string, string> = {};
  for (const name of ['PATH', 'TMPDIR', 'HOME']) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  for (const [name, value] of Object.entries(job.env)) {
    if (isAllowedJobEnv(name, options.envAllowlist)) env[name] = translateText(value, from, mount);
  }
  const file = argv[0] ?? '';
  return { file, args: argv.slice(1), cwd, env, outputs, scratch };
}
