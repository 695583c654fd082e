// Serves one client connection: reads its HELLO and REQUEST, runs the job on the farm or hands it back to run locally.
import type net from 'node:net';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { ConfigError } from '../config/config-error.js';
import {
  AGENT_PROTOCOL,
  FRAME,
  FrameError,
  createFrameReader,
  decodeRequest,
  encodeExit,
  encodeFrame,
  encodeMismatch,
  encodeRunLocal,
  helloVersion,
  launcherMode,
  type ClientRequest,
} from '../protocol/agent-frames.js';
import type { Job, JobResult } from '../protocol/messages.js';
import { settingsEnv, type LauncherCall, type SettingsResolver } from './client-settings.js';
import { planJob, type JobPlan } from './plan-job.js';
import type { CacheLookup, LookupResult } from './cache-lookup.js';
import { errnoCode } from '../common/errno.js';
import type { SubmitOutcome } from './submitter.js';
import { waitForOutputs } from './wait-outputs.js';

export interface ClientContext {
  readonly resolver: SettingsResolver;
  /** Submits a job to the server its call's settings name, with their token, TLS and batching. Throws ConfigError for unusable TLS files. */
  submit(call: LauncherCall, job: Job, signal: AbortSignal): Promise<SubmitOutcome>;
  /** Waits for a host-wide local slot; rejects if `signal` aborts first. */
  acquireLocalSlot(signal: AbortSignal): Promise<() => void>;
  readonly logger: Logger;
  /** Called while the client waits on the agent (KEEPALIVE frames are due), and when it stops waiting. */
  waiting(conn: net.Socket, on: boolean): void;
  readonly cache: CacheLookup;
  /** Counts a lookup, a hit (with the time it took) or a miss, for the server that `call` names. */
  cacheLookedUp(call: LauncherCall, hit: boolean, ms: number): void;
}

/** Where a connection is in its life. */
type ConnectionState =
  | { readonly state: 'hello' }
  | { readonly state: 'request' }
  | { readonly state: 'working' };

/** The reason every connection's signal aborts with: one object, not a DOMException (and its stack) per job. */
const CLIENT_GONE = new Error('the client closed its connection');

/** Largest piece of stdout or stderr sent in one frame. */
const CHUNK = 1024 * 1024;

/** Frames of `bytes` for the client's stdout or stderr, in pieces of at most CHUNK. */
function outputFrames(type: number, bytes: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) out.push(encodeFrame(type, bytes.subarray(at, at + CHUNK)));
  return out;
}

const text = (s: string): Buffer => encodeFrame(FRAME.STDERR, Buffer.from(s, 'utf8'));

/** True if some argument of the command decoded to a replacement character: its bytes were not UTF-8 (or held U+FFFD). */
function lossyArgs(request: ClientRequest, from: number): boolean {
  return request.argv.slice(from).some((a) => a.includes('\uFFFD'));
}

export function serveClient(conn: net.Socket, ctx: ClientContext): void {
  const gone = new AbortController();
  let state: ConnectionState = { state: 'hello' };
  conn.once('close', () => {
    gone.abort(CLIENT_GONE);
    ctx.waiting(conn, false);
  });
  conn.on('error', (err) => ctx.logger.debug(`client connection: ${err.message}`));
  const read = createFrameReader((frame) => {
    switch (state.state) {
      case 'hello': {
        const version = frame.type === FRAME.JSON ? helloVersion(frame.payload) : undefined;
        if (version !== AGENT_PROTOCOL) {
          ctx.logger.info(`a client of protocol ${version ?? 'unknown'} connected; this agent speaks ${AGENT_PROTOCOL}`);
          conn.end(encodeMismatch());
          state = { state: 'working' };
          return;
        }
        state = { state: 'request' };
        return;
      }
      case 'request': {
        if (frame.type !== FRAME.REQUEST) throw new FrameError(`expected a REQUEST frame (type ${FRAME.REQUEST}), got type ${frame.type}`);
        const request = decodeRequest(frame.payload);
        state = { state: 'working' };
        ctx.waiting(conn, true);
        void handle(request, conn, ctx, gone.signal).catch((err: unknown) => {
          ctx.logger.error(`job failed in the agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          finish(conn, ctx, [text(`distbuild: the agent failed: ${err instanceof Error ? err.message : String(err)}\n`)], 70);
        });
        return;
      }
      case 'working':
        return; // the client sends nothing more; the connection's end is what counts
    }
  });
  conn.on('data', (chunk: Buffer) => {
    try {
      read(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      ctx.logger.warn(`bad frame from a client: ${err.message}`);
      conn.destroy();
    }
  });
}

/** Sends the last frames and the exit code; the client exits with it. */
function finish(conn: net.Socket, ctx: ClientContext, frames: readonly Buffer[], code: number): void {
  ctx.waiting(conn, false);
  if (conn.destroyed) return;
  for (const f of frames) conn.write(f);
  conn.end(encodeExit(code));
}

async function handle(request: ClientRequest, conn: net.Socket, ctx: ClientContext, signal: AbortSignal): Promise<void> {
  const mode = launcherMode(request.argv.slice(1));
  if (mode === undefined) {
    finish(conn, ctx, [text('distbuild: the agent runs launchers only (--compiler or --linker before "--")\n')], 2);
    return;
  }
  let call: LauncherCall;
  try {
    call = await ctx.resolver.resolve(request.argv, settingsEnv(request.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    finish(conn, ctx, [text(`distbuild: ${err.message}\n`)], 2);
    return;
  }
  const { settings } = call;
  const plan = await planJob({
    mode: call.mode, command: call.command, settings, cwd: request.cwd, env: request.env, id: request.id, pid: request.pid,
    lossy: lossyArgs(request, call.commandIndex),
  });
  const local = (reason: string): Promise<void> => runLocal(conn, ctx, call, plan.label, reason, signal);
  const fallback = (reason: string): Promise<void> => {
    if (settings.fallback) return local(reason);
    finish(conn, ctx, [text(`distbuild: ${reason}; not building locally because fallback is off (--no-fallback / fallback = false)\n`)], 1);
    return Promise.resolve();
  };
  if (plan.where === 'local') return local(plan.reason);
  if (settings.cache !== 'false' && (await answerFromCache(conn, ctx, call, plan))) return;

  let outcome: SubmitOutcome;
  try {
    outcome = await ctx.submit(call, plan.job, signal);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    finish(conn, ctx, [text(`distbuild: ${err.message}\n`)], 2);
    return;
  }
  if (signal.aborted) return;
  if (outcome.type === 'unreachable') return fallback(outcome.reason);
  const result: JobResult = outcome.result;
  switch (result.outcome) {
    case 'OUTCOME_COMPLETED': {
      const frames = [...outputFrames(FRAME.STDOUT, result.stdout), ...outputFrames(FRAME.STDERR, result.stderr)];
      if (result.exitCode === 0) {
        const missing = await waitForOutputs(
          result.outputs.map((o) => ({ path: path.join(plan.mount, o.path), sizeBytes: o.sizeBytes, mtimeMs: o.mtimeMs })),
          settings.outputWaitTimeoutMs,
          signal,
        );
        if (missing !== undefined) {
          finish(conn, ctx, [...frames, text(`distbuild: ${missing}\n`)], 1);
          return;
        }
      }
      if (settings.verbose) frames.push(text(`[remote ${result.worker} ${(result.durationMs / 1000).toFixed(2)}s] ${plan.label}\n`));
      finish(conn, ctx, frames, result.exitCode & 0xff);
      return;
    }
    case 'OUTCOME_REJECTED':
      // The worker's policy refused it (the agent's own check missed it): the client may still build it.
      return fallback(`the farm refused to run this job: ${result.message}`);
    default:
      // A command that outran its timeout would hang locally too: report it, do not rebuild here.
      if (result.failure === 'FAILURE_KIND_JOB_TIMEOUT') {
        finish(conn, ctx, [text(`distbuild: the farm refused to run this job: ${result.message}\n`)], 1);
        return;
      }
      return fallback(result.message || `the farm failed the job (${result.failure})`);
  }
}

/** Answers from the cache if it holds the job's result; false: a miss, the job goes to the farm. */
async function answerFromCache(conn: net.Socket, ctx: ClientContext, call: LauncherCall, plan: Extract<JobPlan, { where: 'remote' }>): Promise<boolean> {
  const started = performance.now();
  let result: LookupResult;
  try {
    result = await ctx.cache.lookup({ job: plan.job, mount: plan.mount, compiler: plan.compiler, dir: call.settings.cacheDir, cl: plan.cl });
  } catch (err) {
    // The cache cannot be read or the outputs written here (EACCES, ENOSPC, a missing directory…): the farm compiles.
    const code = errnoCode(err);
    if (code === undefined) throw err;
    result = { type: 'miss', note: `the cache could not be used (${err instanceof Error ? err.message : code})` };
  }
  if (result.type === 'uncacheable') return false;
  const ms = performance.now() - started;
  ctx.cacheLookedUp(call, result.type === 'hit', ms);
  if (result.type === 'miss') {
    if (result.note !== undefined) {
      ctx.logger.warn(`cache: ${result.note}`);
      if (call.settings.verbose && !conn.destroyed) conn.write(text(`[cache miss: ${result.note}] ${plan.label}\n`));
    }
    return false;
  }
  const frames = [...outputFrames(FRAME.STDOUT, result.stdout), ...outputFrames(FRAME.STDERR, result.stderr)];
  if (call.settings.verbose) frames.push(text(`[cache ${(ms / 1000).toFixed(3)}s] ${plan.label}\n`));
  finish(conn, ctx, frames, 0);
  return true;
}

/** Grants a host-wide local slot, then tells the client to run its own command; the slot is held until it hangs up. */
async function runLocal(conn: net.Socket, ctx: ClientContext, call: LauncherCall, label: string, reason: string, signal: AbortSignal): Promise<void> {
  if (call.settings.verbose && !conn.destroyed) conn.write(text(`[local: ${reason}] ${label}\n`));
  let release: () => void;
  try {
    release = await ctx.acquireLocalSlot(signal);
  } catch (err) {
    if (signal.aborted) return; // the client left while it waited
    throw err;
  }
  if (conn.destroyed) {
    release();
    return;
  }
  conn.once('close', release);
  ctx.waiting(conn, false);
  conn.write(encodeRunLocal(call.commandIndex, ''));
}
