// The spawner: a small process that starts the worker's commands, so that each costs the fork of a small process, not of the worker.
//
// It reads SpawnRequests on stdin and writes SpawnEvents on stdout (src/worker/spawn-messages.ts).
// Each command runs in its own process group, with stdout and stderr in unlinked files
// (cheaper than pipes, and reused from command to command), read back at exit up to the cap.
// Output beyond the cap is cut from the file while the command runs, so a runaway one cannot
// fill the disk.
// It runs in its own session, so the signals that drain the worker (Ctrl-C, SIGTERM to its
// group) do not reach it. When the worker goes away (stdin ends), it kills every command's
// process group and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FrameError, createFrameReader, encodeFrame } from '../common/frames.js';
import { SPAWN_FRAME, parseSpawnRequest, type SpawnEvent, type SpawnRequest } from './spawn-messages.js';

/** How often the output files of running commands are checked against the cap. */
const CAP_CHECK_MS = 500;

/** An output file (unlinked at once: its descriptor is all anyone needs), reused from job to job. */
interface Output {
  readonly fd: number;
  /** The first `cap` bytes, once the file grew past them and was cut. */
  kept: Buffer | undefined;
}

interface Running {
  readonly child: ChildProcess;
  readonly cap: number;
  readonly out: Output;
  readonly err: Output;
  /** A kill that came before the process had a pid. */
  killed: boolean;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-spawner-'));
const running = new Map<number, Running>();
/** Output files free for the next command, emptied. */
const free: Output[] = [];
let made = 0;
/** Most commands print nothing: one read of this size tells. */
const scratch = Buffer.allocUnsafe(64 * 1024);

function send(event: SpawnEvent): void {
  process.stdout.write(encodeFrame(SPAWN_FRAME, Buffer.from(JSON.stringify(event), 'utf8')));
}

/** Up to `cap` bytes from the start of `fd`, and whether there were more. */
function head(fd: number, cap: number): { bytes: Buffer; more: boolean } {
  const first = readSync(fd, scratch, 0, Math.min(scratch.length, cap + 1), 0);
  if (first === 0) return { bytes: Buffer.alloc(0), more: false };
  if (first <= cap && first < scratch.length) return { bytes: Buffer.from(scratch.subarray(0, first)), more: false };
  const size = fstatSync(fd).size;
  const bytes = Buffer.allocUnsafe(Math.min(size, cap));
  let got = 0;
  while (got < bytes.length) {
    const n = readSync(fd, bytes, got, bytes.length - got, got);
    if (n === 0) break;
    got += n;
  }
  return { bytes: bytes.subarray(0, got), more: size > cap };
}

/** Keeps the first `cap` bytes of a file grown past them, and empties it (O_APPEND: later writes start again at 0). */
function cut(o: Output, cap: number): void {
  if (fstatSync(o.fd).size <= cap) return;
  o.kept ??= head(o.fd, cap).bytes;
  ftruncateSync(o.fd, 0);
}

function collect(o: Output, cap: number): { bytes: Buffer; truncated: boolean } {
  if (o.kept !== undefined) return { bytes: o.kept, truncated: true };
  const h = head(o.fd, cap);
  return { bytes: h.bytes, truncated: h.more };
}

function takeOutput(): Output {
  const reused = free.pop();
  if (reused !== undefined) return reused;
  const file = path.join(dir, String(made++));
  const fd = openSync(file, 'a+', 0o600);
  unlinkSync(file);
  return { fd, kept: undefined };
}

/** Empties an output file for the next command; one that cannot be emptied is closed. */
function giveBack(o: Output): void {
  try {
    ftruncateSync(o.fd, 0);
  } catch (e) {
    closeSync(o.fd);
    throw e;
  }
  o.kept = undefined;
  free.push(o);
}

function start(r: Extract<SpawnRequest, { op: 'spawn' }>): void {
  const out = takeOutput();
  const err = takeOutput();
  const release = (): void => {
    giveBack(out);
    giveBack(err);
  };
  let child: ChildProcess;
  try {
    child = spawn(r.file, [...r.args], { argv0: r.argv0, cwd: r.cwd, env: r.env, stdio: ['ignore', out.fd, err.fd], detached: true });
  } catch (e) {
    // spawn refuses some arguments synchronously (a NUL byte in the environment…)
    release();
    send({ op: 'error', id: r.id, message: e instanceof Error ? e.message : String(e) });
    return;
  }
  child.once('error', (e) => {
    if (running.delete(r.id)) release();
    send({ op: 'error', id: r.id, message: e.message });
  });
  child.once('spawn', () => {
    send({ op: 'started', id: r.id, pid: child.pid ?? 0 });
    if (running.get(r.id)?.killed === true) killGroup(child);
  });
  child.once('exit', (code, signal) => {
    if (!running.delete(r.id)) return;
    const o = collect(out, r.cap);
    const e = collect(err, r.cap);
    release();
    send({ op: 'exit', id: r.id, code, signal, stdout: o.bytes.toString('base64'), stderr: e.bytes.toString('base64'), truncated: o.truncated || e.truncated });
  });
  running.set(r.id, { child, cap: r.cap, out, err, killed: false });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (e) {
    if (!(e instanceof Error && 'code' in e && e.code === 'ESRCH')) throw e; // already gone
  }
}

const read = createFrameReader((frame) => {
  const r = parseSpawnRequest(frame.payload.toString('utf8'));
  if (r === undefined) throw new FrameError(`not a spawn request: ${frame.payload.toString('utf8').slice(0, 200)}`);
  if (r.op === 'spawn') start(r);
  else {
    const job = running.get(r.id);
    if (job !== undefined) {
      job.killed = true;
      killGroup(job.child);
    }
  }
});

const capCheck = setInterval(() => {
  for (const job of running.values()) {
    cut(job.out, job.cap);
    cut(job.err, job.cap);
  }
}, CAP_CHECK_MS);
capCheck.unref();

/** The worker is gone: nothing may outlive it. */
function shutdown(): void {
  for (const job of running.values()) killGroup(job.child);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0); // the entry point of this process: nothing else runs in it
}

process.stdin.on('data', (chunk: Buffer) => {
  try {
    read(chunk);
  } catch (e) {
    process.stderr.write(`distbuild spawner: ${e instanceof Error ? e.message : String(e)}\n`);
    shutdown();
  }
});
process.stdin.once('end', shutdown);
process.once('SIGTERM', shutdown);
