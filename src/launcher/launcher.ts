// The compiler and linker launchers: hand the command to the farm, or run it here; exit as it did.
import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localOnlyReason, parseCommandLine, type CommandLine } from '../common/command-line.js';
import { pickJobEnv } from '../common/job-env.js';
import { isUnder, toMountRelative } from '../common/mount-path.js';
import { ConfigError } from '../config/config-error.js';
import { envSource, flagSource, readConfigFiles, resolveSettings } from '../config/resolve-settings.js';
import type { Settings } from '../config/settings.js';
import { AGENT_PROTOCOL, type AgentRequest } from '../protocol/agent-frames.js';
import { AgentUnavailableError, askAgent } from './agent-client.js';
import { parseLauncherArgs } from './launcher-flags.js';
import { acquireLocalSlot } from './local-slots.js';
import { runLocal } from './run-local.js';
import { waitForOutputs } from './wait-outputs.js';

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

/** Runs a launcher invocation (`--compiler … -- cmd…`); resolves to the exit code to exit with. */
export async function runLauncher(
  argv: readonly string[],
  io: LauncherIo = defaultIo(),
  /** How to start an agent: this same command in --agent mode. */
  self: readonly string[] = [process.execPath, process.argv[1] ?? 'distbuild'],
): Promise<number> {
  let settings: Settings;
  let command: string[];
  let mode: 'compiler' | 'linker';
  try {
    const parsed = parseLauncherArgs(argv);
    command = parsed.command;
    mode = parsed.mode;
    const explicit = parsed.flags.get('config') ?? io.env.DISTBUILD_CONFIG;
    const files = await readConfigFiles(typeof explicit === 'string' ? explicit : undefined, io.env);
    settings = resolveSettings([flagSource(parsed.flags), envSource(io.env), ...files], io.env, { secrets: false });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`distbuild: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const cl = parseCommandLine(command);
  const label = describe(cl, mode);
  /** Runs the command here, within the host-wide limit of local compiles. */
  const local = async (reason: string): Promise<number> => {
    if (settings.verbose) io.stderr.write(`[local: ${reason}] ${label}\n`);
    const release = await acquireLocalSlot();
    try {
      return await runLocal(command);
    } finally {
      release();
    }
  };
  /** The farm could not run the job: build locally, unless fallback is off. */
  const fallback = async (reason: string): Promise<number> => {
    if (settings.fallback) return local(reason);
    io.stderr.write(`distbuild: ${reason}; not building locally because fallback is off (--no-fallback / fallback = false)\n`);
    return 1;
  };

  // Paths are compared as written first (what CMake wrote), then with symlinks resolved.
  const physicalMount = realpathOrUndefined(settings.fsMount);
  if (physicalMount === undefined) return local(`the mount ${settings.fsMount} does not exist on this host (setting fs_mount)`);
  let mount = settings.fsMount;
  let cwd = path.resolve(io.cwd);
  let cwdRel = toMountRelative(cwd, mount);
  if (cwdRel === undefined) {
    mount = physicalMount;
    cwd = realpathOrUndefined(io.cwd) ?? io.cwd;
    cwdRel = toMountRelative(cwd, mount);
  }
  if (cwdRel === undefined) return local(`the working directory ${cwd} is outside the mount ${settings.fsMount}`);
  const reason = localOnlyReason(cl) ?? outsideMount(cl, cwd, mount, mode);
  if (reason !== undefined) return local(reason);

  const rel = (p: string): string | undefined => toMountRelative(path.resolve(cwd, p), mount);
  // Locality hints, most telling first: the source's directory, the output's, then -I directories.
  const dirs = new Set<string>();
  const mainOutput = cl.outputs.find((o) => o.role === 'output')?.path;
  for (const p of [cl.inputs[0], mainOutput]) {
    const r = p === undefined ? undefined : rel(path.dirname(p));
    if (r !== undefined) dirs.add(r);
  }
  for (const d of cl.includeDirs) {
    const r = rel(d);
    if (r !== undefined) dirs.add(r);
  }
  const request: AgentRequest = {
    v: AGENT_PROTOCOL,
    type: 'job',
    id: jobId(),
    kind: mode === 'linker' || cl.mode === 'link' ? 'link' : 'compile',
    argv: command,
    cwd: cwdRel,
    fsMount: mount,
    env: pickJobEnv(io.env, settings.envAllowlist),
    dirs: [...dirs],
    outputs: cl.outputs.map((o) => rel(o.path)).filter((p): p is string => p !== undefined),
    ...(settings.serverAddr !== undefined ? { serverAddr: settings.serverAddr } : {}),
    discoveryTimeoutMs: settings.mdns ? settings.discoveryTimeoutMs : 0,
    connectTimeoutMs: settings.connectTimeoutMs,
    client: `${os.hostname()}:${process.pid}`,
  };
  const agentCommand = [
    ...self, '--agent', `--log-level=${settings.logLevel}`, `--agent-idle-timeout=${settings.agentIdleTimeoutMs}ms`,
    `--batch-size=${settings.batchSize}`, `--batch-timeout=${settings.batchTimeoutMs}ms`, `--reconnect-timeout=${settings.reconnectTimeoutMs}ms`,
  ];
  if (settings.config !== undefined) agentCommand.push(`--config=${settings.config}`);

  let answer;
  try {
    answer = await askAgent(settings.agentSocket, request, agentCommand);
  } catch (err) {
    if (err instanceof AgentUnavailableError) return fallback(err.message);
    throw err;
  }
  const { reply } = answer;
  switch (reply.type) {
    case 'fallback':
      return fallback(reply.reason);
    case 'rejected':
      io.stderr.write(`distbuild: the farm refused to run this job: ${reply.reason}\n`);
      return 1;
    case 'version-mismatch':
      return local(`the running agent speaks protocol ${reply.agent}, this launcher ${AGENT_PROTOCOL}; it exits when idle`);
    case 'result': {
      for (const chunk of answer.stdout) io.stdout.write(chunk);
      for (const chunk of answer.stderr) io.stderr.write(chunk);
      if (reply.exitCode === 0) {
        const missing = await waitForOutputs(
          reply.outputs.map((o) => ({ path: path.join(mount, o.path), sizeBytes: o.sizeBytes })),
          settings.outputWaitTimeoutMs,
        );
        if (missing !== undefined) {
          io.stderr.write(`distbuild: ${missing}\n`);
          return 1;
        }
      }
      if (settings.verbose) io.stderr.write(`[remote ${reply.worker} ${(reply.durationMs / 1000).toFixed(2)}s] ${label}\n`);
      return reply.exitCode;
    }
  }
}

/** `p` with symlinks resolved, or undefined if it does not exist. */
function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** A compile's source or output outside the mount cannot be seen or written by a worker. */
function outsideMount(cl: CommandLine, cwd: string, mount: string, mode: 'compiler' | 'linker'): string | undefined {
  for (const o of cl.outputs) {
    const abs = path.resolve(cwd, o.path);
    if (!isUnder(abs, mount)) return `the output ${o.path} is outside the mount`;
  }
  if (mode === 'compiler' && cl.mode === 'compile') {
    for (const i of cl.inputs) {
      const abs = path.resolve(cwd, i);
      if (!isUnder(abs, mount)) return `the input ${i} is outside the mount`;
    }
  }
  return undefined;
}

/** What a person recognises in a verbose line: the source of a compile, the output of a link. */
function describe(cl: CommandLine, mode: 'compiler' | 'linker'): string {
  const output = cl.outputs.find((o) => o.role === 'output')?.path;
  if (mode === 'linker' || cl.mode === 'link') return output ?? cl.inputs[0] ?? cl.argv[0] ?? '';
  return cl.inputs[0] ?? output ?? cl.argv[0] ?? '';
}

/** For the build's code cache (src/launcher/build-code-cache.ts). */
export { warmUp } from './warm-up.js';
