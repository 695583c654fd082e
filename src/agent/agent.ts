// The per-user agent: serves launchers on a Unix socket and holds one gRPC channel per server.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import {
  AGENT_PROTOCOL,
  FRAME_JSON,
  FRAME_STDERR,
  FRAME_STDOUT,
  createFrameReader,
  encodeFrame,
  encodeJson,
  type AgentReply,
  type AgentRequest,
} from '../protocol/agent-frames.js';
import type { Job, JobResult } from '../protocol/messages.js';
import type { ServerChannelOptions } from '../common/server-channel.js';
import { findServer } from '../discovery/find-server.js';
import { createSubmitter, type Submitter } from './submitter.js';

export interface AgentOptions {
  readonly socket: string;
  readonly idleTimeoutMs: number;
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
  readonly reconnectTimeoutMs: number;
  readonly logger: Logger;
  readonly token?: string | undefined;
  /** TLS and the message size cap of its channels to servers. */
  readonly channel: ServerChannelOptions;
}

export interface Agent {
  /** Resolves when the agent has stopped (idle timeout or stop()). */
  readonly done: Promise<void>;
  stop(): void;
}

/** Another agent already serves the socket. */
export class AgentAlreadyRunningError extends Error {
  override readonly name = 'AgentAlreadyRunningError';
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { logger } = options;
  const submitters = new Map<string, Submitter>();
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const server = net.createServer((conn) => serve(conn));
  await listenExclusive(server, options.socket);
  const ownInode = statSync(options.socket).ino;
  logger.info(`agent listening on ${options.socket}`);

  function stop(): void {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    server.close();
    try {
      if (statSync(options.socket).ino === ownInode) rmSync(options.socket, { force: true });
    } catch {
      // someone else's socket now, or gone
    }
    for (const s of submitters.values()) s.close();
    submitters.clear();
    logger.info('agent stopped');
    resolveDone();
  }

  function armIdle(): void {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = active === 0 ? setTimeout(stop, options.idleTimeoutMs) : undefined;
  }

  /** Where jobs without a server_addr go: looked up once (mDNS), then kept for the agent's life. */
  let discovered: Promise<string> | undefined;

  async function submitterFor(req: AgentRequest): Promise<Submitter> {
    const serverAddr = req.serverAddr ?? (await (discovered ??= findServer(
      { serverAddr: undefined, mdns: req.discoveryTimeoutMs > 0, discoveryTimeoutMs: req.discoveryTimeoutMs },
      logger,
    )));
    const key = `${serverAddr}|${req.connectTimeoutMs}`;
    let s = submitters.get(key);
    if (s === undefined) {
      s = createSubmitter({
        serverAddr,
        connectTimeoutMs: req.connectTimeoutMs,
        reconnectTimeoutMs: options.reconnectTimeoutMs,
        token: options.token,
        channel: options.channel,
        batchSize: options.batchSize,
        batchTimeoutMs: options.batchTimeoutMs,
        logger,
      });
      submitters.set(key, s);
    }
    return s;
  }

  function serve(conn: net.Socket): void {
    active++;
    armIdle();
    const gone = new AbortController();
    let started = false;
    const finish = (): void => {
      active--;
      armIdle();
    };
    conn.once('close', () => {
      gone.abort();
      finish();
    });
    conn.on('error', () => undefined);
    const read = createFrameReader((frame) => {
      if (frame.type !== FRAME_JSON || started) return;
      started = true;
      const req = JSON.parse(frame.payload.toString('utf8')) as AgentRequest;
      void handle(req, gone.signal).then(
        (answer) => {
          if (answer.stdout.length > 0) conn.write(encodeFrame(FRAME_STDOUT, answer.stdout));
          if (answer.stderr.length > 0) conn.write(encodeFrame(FRAME_STDERR, answer.stderr));
          conn.end(encodeJson(answer.reply));
        },
        (err: unknown) => {
          logger.error(`job failed in the agent: ${(err as Error).stack ?? String(err)}`);
          conn.end(encodeJson({ type: 'fallback', reason: `the agent failed: ${(err as Error).message}` } satisfies AgentReply));
        },
      );
    });
    conn.on('data', (chunk: Buffer) => {
      try {
        read(chunk);
      } catch (err) {
        logger.warn(`bad frame from a launcher: ${(err as Error).message}`);
        conn.destroy();
      }
    });
  }

  async function handle(req: AgentRequest, signal: AbortSignal): Promise<{ reply: AgentReply; stdout: Uint8Array; stderr: Uint8Array }> {
    if (req.v !== AGENT_PROTOCOL) return { reply: { type: 'version-mismatch', agent: AGENT_PROTOCOL }, stdout: none, stderr: none };
    const job: Job = {
      id: req.id,
      kind: req.kind === 'link' ? 'JOB_KIND_LINK' : 'JOB_KIND_COMPILE',
      argv: [...req.argv],
      cwd: req.cwd,
      clientMount: req.fsMount,
      env: { ...req.env },
      dirs: [...req.dirs],
      timeoutMs: 0,
      client: req.client,
      outputs: [...req.outputs],
    };
    const outcome = await (await submitterFor(req)).submit(job, signal);
    if (outcome.type === 'unreachable') return { reply: { type: 'fallback', reason: outcome.reason }, stdout: none, stderr: none };
    return toReply(outcome.result);
  }

  armIdle();
  return { done, stop };
}

const none = new Uint8Array();

function toReply(r: JobResult): { reply: AgentReply; stdout: Uint8Array; stderr: Uint8Array } {
  switch (r.outcome) {
    case 'OUTCOME_COMPLETED':
      return {
        reply: { type: 'result', exitCode: r.exitCode, worker: r.worker, durationMs: r.durationMs, outputs: r.outputs, truncated: r.outputTruncated },
        stdout: r.stdout,
        stderr: r.stderr,
      };
    case 'OUTCOME_REJECTED':
      return { reply: { type: 'rejected', reason: r.message }, stdout: none, stderr: none };
    case 'OUTCOME_FAILED':
      // A command that outran its timeout would hang locally too: report it, do not rebuild here.
      if (r.failure === 'FAILURE_KIND_JOB_TIMEOUT') return { reply: { type: 'rejected', reason: r.message }, stdout: none, stderr: none };
      return { reply: { type: 'fallback', reason: r.message || `the farm failed the job (${r.failure})` }, stdout: none, stderr: none };
    default:
      return { reply: { type: 'fallback', reason: r.message || `the farm failed the job (${r.failure})` }, stdout: none, stderr: none };
  }
}

/** Listens on `socket`, replacing a stale socket file but never a live agent's. */
async function listenExclusive(server: net.Server, socket: string): Promise<void> {
  mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
  const attempt = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  try {
    await attempt();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const live = await new Promise<boolean>((resolve) => {
      const probe = net.createConnection(socket);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (live) throw new AgentAlreadyRunningError(`an agent already serves ${socket}`);
    rmSync(socket, { force: true });
    await attempt();
  }
}
