// Hands one job to the per-user agent over its Unix socket, starting the agent if needed.
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  FRAME_JSON,
  FRAME_STDERR,
  FRAME_STDOUT,
  createFrameReader,
  encodeJson,
  type AgentReply,
  type AgentRequest,
} from '../protocol/agent-frames.js';

export interface AgentAnswer {
  readonly reply: AgentReply;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
}

/** The agent could not be reached or died without answering. */
export class AgentUnavailableError extends Error {
  override readonly name = 'AgentUnavailableError';
}

/**
 * Sends `request` and resolves with the agent's answer, retrying on a fresh agent if one dies.
 * `agentCommand` starts an agent: [node, bin/distbuild.cjs, --agent, flags…].
 */
export async function askAgent(socket: string, request: AgentRequest, agentCommand: readonly string[]): Promise<AgentAnswer> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let conn: net.Socket;
    try {
      conn = await connectOrStart(socket, agentCommand);
    } catch (err) {
      // The agent died as we connected (ECONNRESET…): start another and try again.
      lastError = new Error(`cannot start the distbuild agent at ${socket}: ${(err as Error).message}`);
      continue;
    }
    try {
      return await exchange(conn, request);
    } catch (err) {
      lastError = err as Error; // the agent died mid-job: a new one takes the same job id
    }
  }
  throw new AgentUnavailableError(`the distbuild agent at ${socket} kept failing: ${lastError?.message ?? 'unknown error'}`);
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

async function connectOrStart(socket: string, agentCommand: readonly string[]): Promise<net.Socket> {
  try {
    return await connect(socket);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED' && code !== 'ECONNRESET') throw err;
  }
  mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(agentCommand[0] ?? process.execPath, [...agentCommand.slice(1), `--agent-socket=${socket}`], {
    detached: true,
    stdio: 'ignore',
    env: process.env,
  });
  child.unref();
  // Poll for the socket: about 5 s in all, quickly at first.
  let delay = 5;
  const deadline = Date.now() + 5000;
  for (;;) {
    await new Promise((r) => setTimeout(r, delay));
    try {
      return await connect(socket);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      delay = Math.min(100, delay * 2);
    }
  }
}

function exchange(conn: net.Socket, request: AgentRequest): Promise<AgentAnswer> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const read = createFrameReader((frame) => {
      if (frame.type === FRAME_STDOUT) stdout.push(frame.payload);
      else if (frame.type === FRAME_STDERR) stderr.push(frame.payload);
      else if (frame.type === FRAME_JSON) {
        settled = true;
        conn.end();
        resolve({ reply: JSON.parse(frame.payload.toString('utf8')) as AgentReply, stdout, stderr });
      }
    });
    conn.on('data', (chunk: Buffer) => {
      try {
        read(chunk);
      } catch (err) {
        conn.destroy();
        if (!settled) reject(err as Error);
      }
    });
    conn.on('error', (err) => {
      if (!settled) reject(err);
    });
    conn.on('close', () => {
      if (!settled) reject(new Error('the agent closed the connection without an answer'));
    });
    conn.write(encodeJson(request));
  });
}
