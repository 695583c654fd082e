// The Node client's side of the agent protocol: connect (starting the agent if none answers), send, relay, answer.
import { closeSync, lstatSync, mkdirSync, openSync, rmSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  AGENT_PROTOCOL,
  FRAME,
  SILENCE_MS,
  createFrameReader,
  decodeExit,
  decodeRunLocal,
  encodeHello,
  encodeRequest,
  mismatchVersion,
  type ClientRequest,
} from '../protocol/agent-frames.js';
import { errnoCode, onlySystemErrors } from '../common/errno.js';

/** How the agent answered. A run-local answer keeps the connection open: it holds the local slot. */
export type AgentAnswer =
  | { readonly type: 'exit'; readonly code: number }
  | { readonly type: 'run-local'; readonly index: number; readonly executable: string; readonly conn: net.Socket }
  | { readonly type: 'mismatch'; readonly agent: number };

/** The agent could not be reached, started, or kept failing. */
export class AgentUnavailableError extends Error {
  override readonly name = 'AgentUnavailableError';
}

/** How long a new agent may take to answer on its socket. */
export const AGENT_START_TIMEOUT_MS = 10_000;

export interface Relay {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Sends `request` and resolves with the agent's answer, writing its output frames to `relay` as
 * they come. An agent that dies before answering is replaced, and the same request (same job
 * id) goes to the new one, up to three times. `agentCommand` starts an agent.
 */
export async function askAgent(socket: string, request: ClientRequest, agentCommand: readonly string[], relay: Relay): Promise<AgentAnswer> {
  checkSocketDir(socket);
  let lastError = 'unknown error';
  for (let attempt = 0; attempt < 3; attempt++) {
    let conn: net.Socket;
    try {
      conn = await connectOrStart(socket, agentCommand);
    } catch (err) {
      if (err instanceof AgentUnavailableError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
      continue;
    }
    let answer: AgentAnswer;
    try {
      answer = await exchange(conn, request, relay);
    } catch (err) {
      if (!(err instanceof AgentLostError)) throw err;
      lastError = err.message; // the agent died mid-job: a new one takes the same job id
      continue;
    }
    // An older agent: take its socket name (it finishes its jobs and exits when idle) and start ours.
    if (answer.type === 'mismatch' && answer.agent < AGENT_PROTOCOL && attempt < 2 && removeSocket(socket)) {
      lastError = `an agent of protocol ${answer.agent} answered`;
      continue;
    }
    return answer;
  }
  throw new AgentUnavailableError(`the distbuild agent at ${socket} kept failing: ${lastError}`);
}

/** Removes the socket file (not a file of another kind); true if it did. */
function removeSocket(socket: string): boolean {
  if (lstatSync(socket, { throwIfNoEntry: false })?.isSocket() !== true) return false;
  try {
    unlinkSync(socket);
    return true;
  } catch (err) {
    onlySystemErrors(err);
    return false;
  }
}

/** Refuses a socket directory that is not the user's own with mode 0700 (see ensureSocketDir in the agent). */
function checkSocketDir(socket: string): void {
  const dir = path.dirname(socket);
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    onlySystemErrors(err);
    return; // not there yet: the agent's start creates it
  }
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o777) !== 0o700) {
    const what = !st.isDirectory() ? 'is not a directory' : st.uid !== uid ? `belongs to uid ${st.uid}, not ${uid}` : `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}`;
    throw new AgentUnavailableError(`refusing the agent socket's directory ${dir}: it ${what}; it must be yours with mode 0700 (remove it, or set --agent-socket / DISTBUILD_AGENT_SOCKET elsewhere)`);
  }
}

/** The agent died or hung up before answering. */
class AgentLostError extends Error {
  override readonly name = 'AgentLostError';
}

function connect(socket: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    conn.once('connect', () => {
      conn.removeListener('error', reject);
      resolve(conn);
    });
    conn.once('error', reject);
  });
}

const absent = (err: unknown): boolean => ['ENOENT', 'ECONNREFUSED', 'ECONNRESET'].includes(errnoCode(err) ?? '');

/** Connects; if no agent answers, starts one (one starter at a time, by an O_EXCL lock file) and waits for it. */
async function connectOrStart(socket: string, agentCommand: readonly string[]): Promise<net.Socket> {
  try {
    return await connect(socket);
  } catch (err) {
    if (!absent(err)) throw err;
  }
  const dir = path.dirname(socket);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkSocketDir(socket);
  const lock = path.join(dir, 'agent.start-lock');
  let starter = false;
  try {
    closeSync(openSync(lock, 'wx', 0o600));
    starter = true;
  } catch (err) {
    if (onlySystemErrors(err) !== 'EEXIST') throw err;
    // Another client is starting it. A lock older than the start timeout is stale.
    const st = statSync(lock, { throwIfNoEntry: false });
    if (st !== undefined && Date.now() - st.mtimeMs > AGENT_START_TIMEOUT_MS) rmSync(lock, { force: true });
  }
  try {
    if (starter) {
      const { spawn } = process.getBuiltinModule('node:child_process');
      const child = spawn(agentCommand[0] ?? process.execPath, [...agentCommand.slice(1), `--agent-socket=${socket}`], { detached: true, stdio: 'ignore' });
      child.unref();
    }
    let delay = 5;
    const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
    for (;;) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        return await connect(socket);
      } catch (err) {
        if (!absent(err)) throw err;
        if (Date.now() > deadline) {
          throw new AgentUnavailableError(`the distbuild agent did not start within ${AGENT_START_TIMEOUT_MS / 1000} s at ${socket} (see ${path.join(dir, 'agent.log')})`);
        }
        delay = Math.min(100, delay * 2);
      }
    }
  } finally {
    if (starter) rmSync(lock, { force: true });
  }
}

function exchange(conn: net.Socket, request: ClientRequest, relay: Relay): Promise<AgentAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (answer: AgentAnswer | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(silence);
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    let silence: NodeJS.Timeout;
    const heard = (): void => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        conn.destroy();
        settle(new AgentUnavailableError(`the distbuild agent sent nothing for ${SILENCE_MS / 1000} s; it may be stuck (see agent.log next to its socket)`));
      }, SILENCE_MS);
    };
    heard();
    const read = createFrameReader((frame) => {
      heard();
      switch (frame.type) {
        case FRAME.STDOUT:
          relay.stdout.write(frame.payload);
          return;
        case FRAME.STDERR:
          relay.stderr.write(frame.payload);
          return;
        case FRAME.KEEPALIVE:
          return;
        case FRAME.EXIT:
          conn.end();
          settle({ type: 'exit', code: decodeExit(frame.payload) });
          return;
        case FRAME.RUN_LOCAL: {
          const { index, executable } = decodeRunLocal(frame.payload);
          clearTimeout(silence);
          settle({ type: 'run-local', index, executable, conn });
          return;
        }
        case FRAME.JSON:
          conn.end();
          settle({ type: 'mismatch', agent: mismatchVersion(frame.payload) });
          return;
        default:
          conn.destroy();
          settle(new AgentLostError(`the agent sent a frame of unknown type ${frame.type}`));
      }
    });
    conn.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        read(chunk);
      } catch (err) {
        conn.destroy();
        settle(new AgentLostError(err instanceof Error ? err.message : String(err)));
      }
    });
    conn.on('error', (err) => settle(new AgentLostError(err.message)));
    conn.on('close', () => settle(new AgentLostError('the agent closed the connection without an answer')));
    conn.write(Buffer.concat([encodeHello(), encodeRequest(request)]));
  });
}
