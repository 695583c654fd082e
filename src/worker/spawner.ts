// Runs the worker's commands through its spawner process (src/worker/spawner-process.ts), restarted if it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errnoCode } from '../common/errno.js';
import { FrameError, createFrameReader, encodeFrame } from '../common/frames.js';
import type { Logger } from '../common/logger.js';
import { SPAWN_FRAME, parseSpawnEvent, type SpawnRequest } from './spawn-messages.js';

const PROCESS = fileURLToPath(new URL('./spawner-process.js', import.meta.url));

/** A command to run: file, arguments, working directory and its whole environment. */
export interface SpawnCommand {
  /** The executable's path. */
  readonly file: string;
  /** argv[0] as the command sees it. */
  readonly argv0: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** How a command ended. */
export type SpawnOutcome =
  | {
      readonly type: 'exited';
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
      readonly truncated: boolean;
    }
  /** It could not be started (not found, not executable…), or the spawner died under it. */
  | { readonly type: 'failed'; readonly message: string };

export interface Spawner {
  /** Runs `cmd` in its own process group; aborting `signal` kills the group (the outcome still follows its exit). */
  run(cmd: SpawnCommand, cap: number, signal: AbortSignal): Promise<SpawnOutcome>;
  /** Ends the spawner, which kills whatever still runs. */
  close(): void;
}

interface Job {
  readonly resolve: (outcome: SpawnOutcome) => void;
  pid: number | undefined;
}

const isSignal = (s: string | null): s is NodeJS.Signals => s !== null && /^SIG[A-Z0-9]+$/.test(s);

export function createSpawner(logger: Logger): Spawner {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const jobs = new Map<number, Job>();

  /** The spawner died: its commands are killed by their pids, and each attempt fails (and is retried). */
  function lost(proc: ChildProcess, why: string): void {
    if (child === proc) child = undefined;
    for (const [id, job] of jobs) {
      if (job.pid !== undefined) killGroup(job.pid);
      job.resolve({ type: 'failed', message: `the worker's spawner process ${why}` });
      jobs.delete(id);
    }
  }

  function ensure(): ChildProcess {
    if (child !== undefined) return child;
    const proc = spawn(process.execPath, [PROCESS], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    const read = createFrameReader((frame) => {
      const event = parseSpawnEvent(frame.payload.toString('utf8'));
      if (event === undefined) throw new FrameError(`not a spawn event: ${frame.payload.toString('utf8').slice(0, 200)}`);
      const job = jobs.get(event.id);
      if (job === undefined) return;
      if (event.op === 'started') {
        job.pid = event.pid;
        return;
      }
      jobs.delete(event.id);
      if (event.op === 'error') job.resolve({ type: 'failed', message: event.message });
      else {
        job.resolve({
          type: 'exited', code: event.code, signal: isSignal(event.signal) ? event.signal : null,
          stdout: Buffer.from(event.stdout, 'base64'), stderr: Buffer.from(event.stderr, 'base64'), truncated: event.truncated,
        });
      }
    });
    proc.stdout?.on('data', (chunk: Buffer) => {
      try {
        read(chunk);
      } catch (err) {
        logger.error(`bad message from the spawner: ${err instanceof Error ? err.message : String(err)}; restarting it`);
        proc.kill('SIGTERM');
      }
    });
    proc.stdin?.on('error', (err) => logger.warn(`spawner stdin: ${err.message}`));
    proc.once('error', (err) => lost(proc, `could not start: ${err.message}`));
    proc.once('exit', (code, signal) => lost(proc, `exited (${signal ?? `code ${code ?? '?'}`})`));
    proc.unref();
    // A spawner that waits for work must not keep the worker alive by itself.
    for (const s of [proc.stdin, proc.stdout]) if (s !== null && 'unref' in s && typeof s.unref === 'function') s.unref();
    child = proc;
    return proc;
  }

  const sendTo = (proc: ChildProcess, req: SpawnRequest): void => {
    proc.stdin?.write(encodeFrame(SPAWN_FRAME, Buffer.from(JSON.stringify(req), 'utf8')));
  };

  return {
    run(cmd, cap, signal) {
      const proc = ensure();
      const id = nextId++;
      return new Promise((resolve) => {
        const onAbort = (): void => sendTo(proc, { op: 'kill', id });
        jobs.set(id, {
          pid: undefined,
          resolve: (outcome) => {
            signal.removeEventListener('abort', onAbort);
            resolve(outcome);
          },
        });
        signal.addEventListener('abort', onAbort, { once: true });
        sendTo(proc, { op: 'spawn', id, file: cmd.file, argv0: cmd.argv0, args: cmd.args, cwd: cmd.cwd, env: cmd.env, cap });
        if (signal.aborted) onAbort();
      });
    },
    close() {
      child?.stdin?.end();
    },
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}
