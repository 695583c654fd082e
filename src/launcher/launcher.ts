// The Node launcher: the reference thin client (native/distbuild-client.c is the fast one). The agent decides; this relays and exits.
import os from 'node:os';
import { agentSocketOf, flagOrEnvBoolean } from '../common/agent-socket.js';
import { acquireLocalSlot } from '../common/local-slots.js';
import { AGENT_PROTOCOL, commandIndex, type ClientRequest } from '../protocol/agent-frames.js';
import { AgentUnavailableError, askAgent } from './agent-client.js';
import { runLocal, type LauncherExit } from './run-local.js';

export interface LauncherIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The process's own stdio, opened only when first written: most jobs print nothing. */
const defaultIo = (): LauncherIo => ({
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env: process.env,
  cwd: process.cwd(),
});

/** A job id unique across hosts and time, without loading node:crypto on the hot path. */
function jobId(): string {
  const rand = Math.random().toString(36).slice(2, 12) + Math.random().toString(36).slice(2, 12);
  return `${os.hostname()}-${process.pid}-${Date.now().toString(36)}-${rand}`;
}

const envList = (env: NodeJS.ProcessEnv): string[] =>
  Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));

/**
 * Runs a launcher invocation (`--compiler … -- cmd…`, without node and the script); resolves to the
 * exit code, or to the signal that killed a command run here (the caller dies of it too). `self`
 * starts an agent: this same program in --agent mode.
 */
export async function runLauncher(
  args: readonly string[],
  io: LauncherIo = defaultIo(),
  self: readonly string[] = [process.execPath, process.argv[1] ?? 'distbuild'],
): Promise<LauncherExit> {
  const argv = [self[1] ?? 'distbuild', ...args];
  const request: ClientRequest = { flags: 0, pid: process.pid, id: jobId(), cwd: io.cwd, argv, env: envList(io.env) };
  const socket = agentSocketOf(args, io.env);
  /** No agent to ask: run the command here, within the host-wide limit; verbose and fallback from flags and env. */
  const alone = async (reason: string): Promise<LauncherExit> => {
    const index = commandIndex(argv);
    if (index >= argv.length) {
      io.stderr.write('distbuild: no command given after "--": distbuild --compiler -- g++ -c a.cpp -o a.o\n');
      return 2;
    }
    if (!flagOrEnvBoolean(args, io.env, 'fallback', true)) {
      io.stderr.write(`distbuild: ${reason}; not building locally because fallback is off (--no-fallback)\n`);
      return 1;
    }
    io.stderr.write(`distbuild: ${reason}; building locally\n`);
    return runHere(argv.slice(index));
  };
  let answer;
  try {
    answer = await askAgent(socket, request, [...self, '--agent'], io);
  } catch (err) {
    if (err instanceof AgentUnavailableError) return alone(err.message);
    throw err;
  }
  switch (answer.type) {
    case 'exit':
      return answer.code;
    case 'mismatch':
      if (flagOrEnvBoolean(args, io.env, 'verbose', false)) {
        io.stderr.write(`[local: the running agent speaks protocol ${answer.agent}, this client ${AGENT_PROTOCOL}; it exits when idle] ${argv[commandIndex(argv)] ?? ''}\n`);
      }
      return runHere(argv.slice(commandIndex(argv)));
    case 'run-local': {
      // The agent holds a local slot for us until we hang up.
      if (answer.index < 1 || answer.index >= argv.length) {
        answer.conn.destroy();
        return alone(`the agent named argument ${answer.index} of ${argv.length} as the command`);
      }
      const command = argv.slice(answer.index);
      if (answer.executable !== '') command[0] = answer.executable;
      try {
        return await runLocal(command);
      } finally {
        answer.conn.destroy();
      }
    }
  }
}

/** Runs `command` within one of the host-wide local slots (taken here, with no agent to grant one). */
async function runHere(command: string[]): Promise<LauncherExit> {
  const release = await acquireLocalSlot({ onOverdue: (message) => process.stderr.write(`distbuild: ${message}\n`) });
  try {
    return await runLocal(command);
  } finally {
    release();
  }
}

/** For bin/distbuild.cjs: ends the process as the launcher says. */
export { exitAs } from './run-local.js';
/** For the build's code cache (src/launcher/build-code-cache.ts). */
export { warmUp } from './warm-up.js';
