// Runs one attempt: the command in place, then its outputs published atomically.
import { constants as fsConstants, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import type { ArgLimits } from '../common/job-limits.js';
import { toMountRelative, translateText } from '../common/mount-path.js';
import type { AttemptResult, Assignment, FailureKind, OutputFile } from '../protocol/messages.js';
import type { JobPolicy } from './job-policy.js';
import { WorkerUnfitError } from './invalid-job-error.js';
import { InvalidJobError, prepareCommand, type PendingOutput, type PreparedCommand } from './prepare-command.js';
import { freeMemoryBytes } from './capabilities.js';
import type { Spawner } from './spawner.js';

export interface RunAttemptOptions {
  readonly policy: JobPolicy;
  readonly mount: string;
  readonly envAllowlist: readonly string[];
  /** Aborted when the server cancels the attempt or the worker is forced down. */
  readonly signal: AbortSignal;
  /** Cap on captured stdout and stderr, each. */
  readonly maxOutputBytes: number;
  /** Caps on the command line, response files included. */
  readonly argLimits: ArgLimits;
  /** The worker's private directory for scratch files. */
  readonly scratchDir: string;
  /** Starts the command (in its own process group). */
  readonly spawner: Spawner;
}

const EMPTY = new Uint8Array();

function failed(assign: Assignment, outcome: 'OUTCOME_FAILED' | 'OUTCOME_REJECTED', failure: FailureKind, message: string, durationMs = 0): AttemptResult {
  return {
    attemptId: assign.attemptId,
    jobId: assign.job.id,
    outcome,
    exitCode: 0,
    stdout: EMPTY,
    stderr: EMPTY,
    durationMs,
    outputs: [],
    failure,
    message,
    outputTruncated: false,
    memoryFreeBytes: freeMemoryBytes(),
    staged: false,
  };
}

/** A finished attempt. A staged one holds its outputs under temporary names until publish() or discard(). */
export interface AttemptRun {
  readonly result: AttemptResult;
  /** Renames the staged outputs into place; returns the final result. */
  publish(): AttemptResult;
  /** Deletes the staged outputs. */
  discard(): void;
}

const settled = (result: AttemptResult, cleanup: () => void): AttemptRun => {
  cleanup();
  return { result, publish: () => result, discard: () => undefined };
};

export async function runAttempt(assign: Assignment, options: RunAttemptOptions): Promise<AttemptRun> {
  let prepared: PreparedCommand;
  try {
    prepared = prepareCommand(assign.job, {
      policy: options.policy, mount: options.mount, attemptId: assign.attemptId, envAllowlist: options.envAllowlist, argLimits: options.argLimits, scratchDir: options.scratchDir,
    });
  } catch (err) {
    const none = (): void => undefined;
    if (err instanceof InvalidJobError) return settled(failed(assign, 'OUTCOME_REJECTED', 'FAILURE_KIND_INVALID_JOB', err.message), none);
    if (err instanceof WorkerUnfitError) {
      return settled(failed(assign, 'OUTCOME_FAILED', err.mountMissing ? 'FAILURE_KIND_MOUNT_MISSING' : 'FAILURE_KIND_WORKER_UNFIT', err.message), none);
    }
    return settled(failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not prepare the command: ${err instanceof Error ? err.message : String(err)}`), none);
  }
  const cmd = prepared;
  /** Temporary outputs renamed into place: nothing left to delete. */
  let published = false;
  /** Deletes the scratch files, and the temporary outputs not renamed into place. */
  const cleanup = (): void => {
    for (const f of cmd.scratch) removeIfThere(f);
    if (!published) for (const o of cmd.outputs) if (o.temp !== o.final) removeIfThere(o.temp);
  };
  try {
    for (const c of cmd.copies) await copyIfThere(c.from, c.to);
  } catch (err) {
    cleanup();
    return settled(failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not copy the file the command updates: ${err instanceof Error ? err.message : String(err)}`), () => undefined);
  }
  let result: AttemptResult;
  try {
    result = await execute(assign, cmd, options);
  } catch (err) {
    cleanup();
    throw err;
  }
  if (!result.staged) return settled(result, cleanup);
  return {
    result,
    publish() {
      try {
        const outputs = publish(cmd.outputs, options.mount, assign.job.clientMount);
        published = true;
        return { ...result, outputs, staged: false };
      } catch (err) {
        return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_PUBLISH_FAILED', `could not publish the outputs: ${err instanceof Error ? err.message : String(err)}`, result.durationMs);
      } finally {
        cleanup();
      }
    },
    discard: cleanup,
  };
}

async function execute(assign: Assignment, cmd: PreparedCommand, options: RunAttemptOptions): Promise<AttemptResult> {
  const started = performance.now();
  let timedOut = false;
  // One signal kills the command's process group: a timeout, a cancel, or the worker forced down.
  const kill = new AbortController();
  const timer = setTimeout(() => {
    timedOut = true;
    kill.abort();
  }, assign.timeoutMs);
  const onCancel = (): void => kill.abort();
  options.signal.addEventListener('abort', onCancel, { once: true });
  if (options.signal.aborted) kill.abort();
  const outcome = await options.spawner.run({ file: cmd.file, argv0: cmd.argv0, args: cmd.args, cwd: cmd.cwd, env: cmd.env }, options.maxOutputBytes, kill.signal);
  clearTimeout(timer);
  options.signal.removeEventListener('abort', onCancel);
  const durationMs = Math.round(performance.now() - started);

  if (timedOut) {
    return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_JOB_TIMEOUT',
      `the command ran longer than the job timeout of ${assign.timeoutMs} ms and was killed with its process group (setting job_timeout / --job-timeout)`, durationMs);
  }
  if (options.signal.aborted) return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_CANCELLED', 'the attempt was cancelled', durationMs);
  if (outcome.type === 'failed') return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not run ${cmd.argv0} (${cmd.file}): ${outcome.message}`, durationMs);
  const stderr = outcome.truncated
    ? Buffer.concat([outcome.stderr, Buffer.from(`\n[distbuild: output truncated: each of stdout and stderr is capped at ${options.maxOutputBytes} bytes]\n`)])
    : outcome.stderr;
  if (outcome.signal !== null) {
    return { ...failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_KILLED', `${cmd.argv0} was killed by ${outcome.signal}`, durationMs), stderr };
  }
  const exitCode = outcome.code ?? 1;
  // Success: the outputs wait under their temporary names for the server's commit.
  return {
    attemptId: assign.attemptId,
    jobId: assign.job.id,
    outcome: 'OUTCOME_COMPLETED',
    exitCode,
    stdout: outcome.stdout,
    stderr,
    durationMs,
    outputs: [],
    failure: 'FAILURE_KIND_UNSPECIFIED',
    message: '',
    outputTruncated: outcome.truncated,
    memoryFreeBytes: freeMemoryBytes(),
    staged: exitCode === 0 && cmd.outputs.length > 0,
  };
}

/** Deletes `file` if it exists (most temporary outputs are gone by then: renamed, or never written). */
function removeIfThere(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Renames each written temporary output into place; depfiles get the client's mount paths. */
function publish(pending: readonly PendingOutput[], mount: string, clientMount: string): OutputFile[] {
  const out: OutputFile[] = [];
  for (const o of pending) {
    // Not every listed output is always written (e.g. a map the linker skipped).
    let st = statSync(o.temp, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (o.role === 'depfile' && mount !== clientMount) {
      const text = readFileSync(o.temp, 'utf8');
      const back = translateText(text, mount, clientMount);
      if (back !== text) {
        writeFileSync(o.temp, back);
        st = statSync(o.temp);
      }
    }
    // A rename keeps the file's mtime: the client checks size and mtime against what it sees.
    if (o.temp !== o.final) renameSync(o.temp, o.final);
    out.push({ path: toMountRelative(o.final, mount) ?? o.final, sizeBytes: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Copies `from` (if it exists) to `to`, by reflink where the filesystem can: the file a command then updates. */
async function copyIfThere(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to, fsConstants.COPYFILE_FICLONE);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
