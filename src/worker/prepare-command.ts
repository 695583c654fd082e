// Turns a job into the command this worker runs: its own mount paths, temporary output names.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCommandLine } from '../common/command-line.js';
import { isAllowedJobEnv } from '../common/job-env.js';
import { policyViolation, type JobPolicy } from './job-policy.js';
import { translateCommand } from './translate-command.js';
import { fromMountRelative, isUnder, translateText } from '../common/mount-path.js';
import type { Job } from '../protocol/messages.js';

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

/** A job this worker must refuse; the message names the problem. */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
}

export interface PrepareOptions {
  /** What this worker agrees to run; undefined: anything (tests of translation only). */
  readonly policy?: JobPolicy;
  readonly mount: string;
  readonly attemptId: string;
  readonly envAllowlist: readonly string[];
}

export function prepareCommand(job: Job, options: PrepareOptions): PreparedCommand {
  const { mount } = options;
  const from = job.clientMount;
  const cwd = path.resolve(fromMountRelative(job.cwd, mount));
  if (!isUnder(cwd, mount)) throw new InvalidJobError(`the job's cwd "${job.cwd}" lies outside the mount`);
  let cwdIsDir = false;
  try {
    cwdIsDir = statSync(cwd).isDirectory();
  } catch {
    cwdIsDir = false;
  }
  if (!cwdIsDir) {
    throw new InvalidJobError(
      `the job's working directory ${cwd} does not exist on this worker; is --fs-mount=${mount} the same filesystem as the client's ${from}?`,
    );
  }

  const scratch: string[] = [];
  const argv = translateCommand(job.argv, from, mount, parseCommandLine(job.argv).mode === 'compile');
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('@') || from === mount) continue;
    const rsp = path.resolve(cwd, arg.slice(1));
    let text: string;
    try {
      text = readFileSync(rsp, 'utf8');
    } catch {
      continue; // gcc treats an unreadable @file as a plain argument; so do we
    }
    const translated = translateText(text, from, mount);
    if (translated !== text) {
      const copy = path.join(os.tmpdir(), `distbuild-${options.attemptId}-${i}.rsp`);
      writeFileSync(copy, translated);
      scratch.push(copy);
      argv[i] = `@${copy}`;
    }
  }

  const outputs: PendingOutput[] = [];
  const cl = parseCommandLine(argv);
  if (options.policy !== undefined) {
    const violation = policyViolation(argv, cwd, mount, cl.outputs.map((o) => o.path), options.policy);
    if (violation !== undefined) throw new InvalidJobError(violation);
  }
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
