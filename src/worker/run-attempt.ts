// Runs one attempt: the command in place, then its outputs published atomically.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';
import type { ArgLimits } from '../common/job-limits.js';
import { toMountRelative, translateText } from '../common/mount-path.js';
import type { AttemptResult, Assignment, FailureKind, OutputFile } from '../protocol/messages.js';
import type { JobPolicy } from './job-policy.js';
import { InvalidJobError, prepareCommand, type PendingOutput, type PreparedCommand } from './prepare-command.js';

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
    memoryFreeBytes: os.freemem(),
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
      policy: options.policy, mount: options.mount, attemptId: assign.attemptId, envAllowlist: options.envAllowlist, argLimits: options.argLimits,
    });
  } catch (err) {
    const none = (): void => undefined;
    if (err instanceof InvalidJobError) return settled(failed(assign, 'OUTCOME_REJECTED', 'FAILURE_KIND_INVALID_JOB', err.message), none);
    return settled(failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not prepare the command: ${(err as Error).message}`), none);
  }
  const cmd = prepared;
  const cleanup = (): void => {
    for (const f of cmd.scratch) rmSync(f, { force: true });
    for (const o of cmd.outputs) if (o.temp !== o.final) rmSync(o.temp, { force: true });
  };
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
        return { ...result, outputs, staged: false };
      } catch (err) {
        return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_PUBLISH_FAILED', `could not publish the outputs: ${(err as Error).message}`, result.durationMs);
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
  let subprocess;
  try {
    subprocess = spawnCommand(cmd);
  } catch (err) {
    // execa and spawn refuse some arguments synchronously (e.g. a NUL byte in the env): a spawn failure, not a crash.
    return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not run ${cmd.file}: ${(err as Error).message}`);
  }
  const stdoutCapture = capture(subprocess.stdout, options.maxOutputBytes);
  const stderrCapture = capture(subprocess.stderr, options.maxOutputBytes);
  const killGroup = (): void => {
    if (subprocess.pid !== undefined) {
      try {
        process.kill(-subprocess.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, assign.timeoutMs);
  options.signal.addEventListener('abort', killGroup, { once: true });
  const result = await subprocess;
  clearTimeout(timer);
  options.signal.removeEventListener('abort', killGroup);
  const durationMs = Math.round(performance.now() - started);

  if (timedOut) {
    return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_JOB_TIMEOUT',
      `the command ran longer than the job timeout of ${assign.timeoutMs} ms and was killed with its process group (setting job_timeout / --job-timeout)`, durationMs);
  }
  if (options.signal.aborted) return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_CANCELLED', 'the attempt was cancelled', durationMs);
  if (result.exitCode === undefined && result.signal === undefined) {
    return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not run ${cmd.file}: ${result.originalMessage ?? result.shortMessage}`, durationMs);
  }
  const out = await stdoutCapture;
  const err = await stderrCapture;
  const truncated = out.truncated || err.truncated;
  const stdout = out.bytes;
  const stderr = truncated
    ? Buffer.concat([err.bytes, Buffer.from(`\n[distbuild: output truncated: each of stdout and stderr is capped at ${options.maxOutputBytes} bytes]\n`)])
    : err.bytes;
  if (result.signal !== undefined) {
    return {
      ...failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_KILLED', `${cmd.file} was killed by ${result.signal}`, durationMs),
      stderr,
    };
  }
  // Success: the outputs wait under their temporary names for the server's commit.
  return {
    attemptId: assign.attemptId,
    jobId: assign.job.id,
    outcome: 'OUTCOME_COMPLETED',
    exitCode: result.exitCode ?? 1,
    stdout,
    stderr,
    durationMs,
    outputs: [],
    failure: 'FAILURE_KIND_UNSPECIFIED',
    message: '',
    outputTruncated: truncated,
    memoryFreeBytes: os.freemem(),
    staged: result.exitCode === 0 && cmd.outputs.length > 0,
  };
}

/** Starts the prepared command in its own process group, output captured by the caller. */
function spawnCommand(cmd: PreparedCommand) {
  return execa(cmd.file, cmd.args, {
    cwd: cmd.cwd,
    env: cmd.env,
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    stdin: 'ignore',
    // Its own process group, so a timeout or a cancel kills the compiler and every child.
    detached: true,
    // Output is captured below, up to the cap; beyond it, it is read and dropped, never fatal.
    buffer: false,
  });
}

/** Renames each written temporary output into place; depfiles get the client's mount paths. */
function publish(pending: readonly PendingOutput[], mount: string, clientMount: string): OutputFile[] {
  const out: OutputFile[] = [];
  for (const o of pending) {
    let size: number;
    try {
      size = statSync(o.temp).size;
    } catch {
      continue; // not every listed output is always written (e.g. a map the linker skipped)
    }
    if (o.role === 'depfile' && mount !== clientMount) {
      const text = readFileSync(o.temp, 'utf8');
      const back = translateText(text, mount, clientMount);
      if (back !== text) {
        writeFileSync(o.temp, back);
        size = Buffer.byteLength(back);
      }
    }
    if (o.temp !== o.final) renameSync(o.temp, o.final);
    out.push({ path: toMountRelative(o.final, mount) ?? o.final, sizeBytes: size });
  }
  return out;
}

/** Reads a stream to its end, keeping the first `cap` bytes. */
function capture(stream: NodeJS.ReadableStream | null, cap: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  return new Promise((resolve) => {
    if (stream === null) {
      resolve({ bytes: Buffer.alloc(0), truncated: false });
      return;
    }
    const chunks: Buffer[] = [];
    let kept = 0;
    let truncated = false;
    stream.on('data', (chunk: Buffer) => {
      if (kept >= cap) {
        truncated = true;
        return;
      }
      const room = cap - kept;
      if (chunk.length > room) truncated = true;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    const done = (): void => resolve({ bytes: Buffer.concat(chunks), truncated });
    stream.once('end', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}
