// Runs one attempt: the command in place, then its outputs published atomically.
import { constants as fsConstants, type Stats } from 'node:fs';
import { copyFile, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import type { ArgLimits } from '../common/job-limits.js';
import { toMountRelative, translateText } from '../common/mount-path.js';
import type { AttemptResult, Assignment, FailureKind, Job, OutputFile } from '../protocol/messages.js';
import type { CacheWriter, StoreOutcome } from './cache-writer.js';
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
  /** The result cache this worker stores into, and where each store's outcome goes. */
  readonly cache?: { readonly writer: CacheWriter; readonly report: (job: Job, outcome: StoreOutcome | Error) => void } | undefined;
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
  /** Renames the staged outputs into place; resolves to the final result. */
  publish(): Promise<AttemptResult>;
  /** Deletes the staged outputs. */
  discard(): Promise<void>;
}

const settled = async (result: AttemptResult, cleanup: () => Promise<void>): Promise<AttemptRun> => {
  await cleanup();
  return { result, publish: async () => result, discard: async () => undefined };
};

const nothing = async (): Promise<void> => undefined;

export async function runAttempt(assign: Assignment, options: RunAttemptOptions): Promise<AttemptRun> {
  let prepared: PreparedCommand;
  try {
    prepared = await prepareCommand(assign.job, {
      policy: options.policy, mount: options.mount, attemptId: assign.attemptId, envAllowlist: options.envAllowlist, argLimits: options.argLimits, scratchDir: options.scratchDir,
    });
  } catch (err) {
    if (err instanceof InvalidJobError) return settled(failed(assign, 'OUTCOME_REJECTED', 'FAILURE_KIND_INVALID_JOB', err.message), nothing);
    if (err instanceof WorkerUnfitError) {
      return settled(failed(assign, 'OUTCOME_FAILED', err.mountMissing ? 'FAILURE_KIND_MOUNT_MISSING' : 'FAILURE_KIND_WORKER_UNFIT', err.message), nothing);
    }
    return settled(failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not prepare the command: ${err instanceof Error ? err.message : String(err)}`), nothing);
  }
  const cmd = prepared;
  /** Temporary outputs renamed into place: nothing left to delete. */
  let published = false;
  /** Deletes the scratch files, and the temporary outputs not renamed into place. */
  const cleanup = async (): Promise<void> => {
    const temps = published ? [] : cmd.outputs.filter((o) => o.temp !== o.final).map((o) => o.temp);
    await Promise.all([...cmd.scratch, ...temps].map(removeIfThere));
  };
  try {
    // An archive ar updates starts as a copy of the one there.
    for (const o of cmd.outputs) if (o.updates === true) await copyIfThere(o.final, o.temp);
  } catch (err) {
    await cleanup();
    return settled(failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_SPAWN_FAILED', `could not copy the file the command updates: ${err instanceof Error ? err.message : String(err)}`), nothing);
  }
  let result: AttemptResult;
  const startedMs = Date.now();
  try {
    result = await execute(assign, cmd, options);
  } catch (err) {
    await cleanup();
    throw err;
  }
  if (!result.staged) return settled(result, cleanup);
  return {
    result,
    async publish() {
      try {
        // The object is read before it is published: once renamed into place, the build may change it.
        const keyed = options.cache?.writer.wants(assign.job);
        const cache = keyed !== undefined ? options.cache : undefined;
        // So is the depfile: ninja deletes it once it has read it.
        const objectTemp = cmd.outputs.find((o) => o.role === 'output')?.temp;
        const depfileTemp = cmd.outputs.find((o) => o.role === 'depfile')?.temp;
        const read = cache !== undefined && objectTemp !== undefined && depfileTemp !== undefined
          ? await Promise.all([readFile(objectTemp), readFile(depfileTemp, 'utf8')])
          : undefined;
        const outputs = await publish(cmd.outputs, options.mount, assign.job.clientMount);
        published = true;
        if (cache !== undefined && keyed !== undefined && read !== undefined) {
          const [object, depfile] = read;
          const input = {
            job: assign.job, executable: cmd.file, startedMs, object, depfile: translateText(depfile, options.mount, assign.job.clientMount),
            stdout: Buffer.from(result.stdout), stderr: Buffer.from(result.stderr),
          };
          // After the result: a store never delays the build.
          setImmediate(() => {
            cache.writer.store(input, keyed).then((o) => cache.report(assign.job, o), (err: unknown) => cache.report(assign.job, err instanceof Error ? err : new Error(String(err))));
          });
        }
        return { ...result, outputs, staged: false };
      } catch (err) {
        return failed(assign, 'OUTCOME_FAILED', 'FAILURE_KIND_PUBLISH_FAILED', `could not publish the outputs: ${err instanceof Error ? err.message : String(err)}`, result.durationMs);
      } finally {
        await cleanup();
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

/**
 * Deletes `file` if it exists (most temporary outputs are gone by then: renamed, or never
 * written). One that cannot be deleted (EACCES, a stalled mount's EIO…) is left behind: litter,
 * not a failed attempt.
 */
async function removeIfThere(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if (errnoCode(err) === undefined) throw err;
  }
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    return undefined;
  }
}

/** Renames each written temporary output into place; depfiles get the client's mount paths. */
async function publish(pending: readonly PendingOutput[], mount: string, clientMount: string): Promise<OutputFile[]> {
  const out: OutputFile[] = [];
  for (const o of pending) {
    // Not every listed output is always written (e.g. a map the linker skipped).
    let st = await statOrUndefined(o.temp);
    if (st === undefined) continue;
    if (o.role === 'depfile' && mount !== clientMount) {
      const text = await readFile(o.temp, 'utf8');
      const back = translateText(text, mount, clientMount);
      if (back !== text) {
        await writeFile(o.temp, back);
        st = await stat(o.temp);
      }
    }
    // A rename keeps the file's mtime: the client checks size and mtime against what it sees.
    if (o.temp !== o.final) await rename(o.temp, o.final);
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
