// Starts a real farm for tests: a server and workers as separate processes on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchStatus } from '../../src/cli/status-command.js';
import { CERT_FILES } from '../../src/cli/gen-certs-command.js';
import type { ServerChannelOptions } from '../../src/common/server-channel.js';
import type { StatusReply } from '../../src/protocol/messages.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'distbuild.cjs');
/** The native client, as native/build.mjs builds it. */
export const NATIVE_CLIENT = path.join(ROOT, 'dist', 'native', 'distbuild');

export type LauncherKind = 'native' | 'node';
/** The launcher the suite runs: the native client, unless DISTBUILD_TEST_LAUNCHER=node or none was built. */
export const LAUNCHER_KIND: LauncherKind = process.env.DISTBUILD_TEST_LAUNCHER === 'node' || !existsSync(NATIVE_CLIENT) ? 'node' : 'native';
/** The launcher's executable (bin/distbuild.cjs runs by its shebang). */
export const launcherExe = (kind: LauncherKind = LAUNCHER_KIND): string => (kind === 'native' ? NATIVE_CLIENT : BIN);

/** The real toolchain plus the fake compilers of test/fixtures and /bin/true (for timing tests). */
export const TEST_ALLOWLIST = [
  'gcc', 'g++', 'cc', 'c++', 'ar', 'ranlib', '/bin/true',
  ...['fake-cc.sh', 'fake-cc-log.sh', 'hang-cc.sh', 'stall-cc.sh', 'slow-ar', 'slow-gcc.sh'].map((f) => path.join(ROOT, 'test', 'fixtures', f)),
];

/** DISTBUILD_TLS_* for the server of a farm whose certificates `--gen-certs` wrote to `dir` (mTLS: with the CA). */
export function serverTlsEnv(dir: string): Record<string, string> {
  return { DISTBUILD_TLS_CERT: path.join(dir, CERT_FILES.server), DISTBUILD_TLS_KEY: path.join(dir, CERT_FILES.serverKey), DISTBUILD_TLS_CA: path.join(dir, CERT_FILES.ca) };
}

/** DISTBUILD_TLS_* for a client (worker, agent, --status) of such a farm. */
export function clientTlsEnv(dir: string): Record<string, string> {
  return { DISTBUILD_TLS_CERT: path.join(dir, CERT_FILES.client), DISTBUILD_TLS_KEY: path.join(dir, CERT_FILES.clientKey), DISTBUILD_TLS_CA: path.join(dir, CERT_FILES.ca) };
}

/** Channel options of a client of such a farm (in-process clients of tests). */
export function clientChannel(dir: string | undefined): ServerChannelOptions {
  const files = dir === undefined ? undefined : clientTlsEnv(dir);
  return { tls: { cert: files?.DISTBUILD_TLS_CERT, key: files?.DISTBUILD_TLS_KEY, ca: files?.DISTBUILD_TLS_CA }, maxMessageBytes: 64 * 1024 * 1024 };
}

/** Runs `distbuild --gen-certs DIR`, as a user would. */
export async function genCerts(dir: string): Promise<string> {
  const { execa } = await import('execa');
  await execa(process.execPath, [BIN, '--gen-certs', dir]);
  return dir;
}

export interface WorkerSpec {
  readonly name: string;
  /** The worker's own path to the mount. */
  readonly mount: string;
  /** Slots (default 1); 0 passes no --max-jobs flag, so a config file decides. */
  readonly maxJobs?: number;
  readonly disableLinking?: boolean;
  /** Extra flags. */
  readonly args?: readonly string[];
  /** False: no --compiler-allowlist flag (TEST_ALLOWLIST), so a config file decides. */
  readonly allowlistFlag?: boolean;
  /** Extra environment for this worker only. */
  readonly env?: Readonly<Record<string, string>>;
  /** Wrap the command, e.g. ['unshare', '-m', '--', 'sh', '-c', …]; receives the argv. */
  readonly wrap?: (argv: string[]) => string[];
}

export interface Farm {
  readonly addr: string;
  readonly port: number;
  /** A private agent socket for this farm's launchers. */
  readonly agentSocket: string;
  /** The current server process (replaced by restartServer). */
  server: ChildProcess;
  readonly workers: Map<string, ChildProcess>;
  readonly logs: Map<string, string[]>;
  status(): Promise<StatusReply>;
  startWorker(spec: WorkerSpec): Promise<ChildProcess>;
  /** The launcher and its flags for this farm ([executable, flags…]), e.g. for CMAKE_<LANG>_COMPILER_LAUNCHER. */
  launcherArgs(mount: string, extra?: readonly string[], kind?: LauncherKind): string[];
  stop(): Promise<void>;
  /** Starts a new server on the same port (after the old one died). */
  restartServer(): Promise<void>;
}

/** Resolves with the first stdout/stderr line of `child` matching `re`; rejects if it exits first. */
export function waitForLine(child: ChildProcess, re: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (re.test(line)) {
          cleanup();
          resolve(line);
          return;
        }
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what} exited (code ${code}) before printing ${re}`));
    };
    const cleanup = (): void => {
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', onExit);
  });
}

function record(logs: Map<string, string[]>, name: string, child: ChildProcess): void {
  const lines: string[] = [];
  logs.set(name, lines);
  child.stdout?.on('data', (c: Buffer) => lines.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => lines.push(c.toString()));
}

/**
 * The environment for the farm's processes and builds, as a developer's shell has it: without
 * tap's instrumentation (NODE_OPTIONS, _TAPJS_*), which would follow the workers into every
 * command they spawn, and without the npm_* variables of `npm test` / `npm run bench` (some
 * 20 KB that every client would carry to its agent).
 */
export function childEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS') && !k.startsWith('npm_') && k !== 'INIT_CWD'));
}

export async function startFarm(options: {
  workers: readonly WorkerSpec[];
  serverArgs?: readonly string[];
  /** Extra environment for the server and the workers (e.g. DISTBUILD_TOKEN). */
  env?: Readonly<Record<string, string>>;
  /** A --gen-certs directory: the server serves mTLS, workers and status present the client certificate. */
  certs?: string;
}): Promise<Farm> {
  const env = { ...childEnv(), ...options.env };
  const certs = options.certs;
  const serverEnv = certs === undefined ? env : { ...env, ...serverTlsEnv(certs) };
  const workerEnv = certs === undefined ? env : { ...env, ...clientTlsEnv(certs) };
  const logs = new Map<string, string[]>();
  const agentDir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-agent-'));
  const agentSocket = path.join(agentDir, 'agent.sock');
  const startServer = async (port: number, name: string): Promise<{ child: ChildProcess; port: number }> => {
    const child = spawn(process.execPath, [BIN, '--server', `--listen=127.0.0.1:${port}`, '--log-level=debug', ...(options.serverArgs ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv,
    });
    record(logs, name, child);
    const line = await waitForLine(child, /^distbuild server listening on /, 'the server');
    return { child, port: Number(/:(\d+)$/.exec(line)?.[1]) };
  };
  const first = await startServer(0, 'server');
  const server = first.child;
  const port = first.port;
  let restarts = 0;
  const addr = `127.0.0.1:${port}`;
  const workers = new Map<string, ChildProcess>();

  const farm: Farm = {
    addr,
    port,
    agentSocket,
    server,
    workers,
    logs,
    status: () => fetchStatus(addr, 5000, options.env?.DISTBUILD_TOKEN, clientChannel(certs)),
    async startWorker(spec) {
      const argv = [
        process.execPath, BIN, '--worker', `--server-addr=${addr}`, `--fs-mount=${spec.mount}`, ...(spec.maxJobs === 0 ? [] : [`--max-jobs=${spec.maxJobs ?? 1}`]),
        `--name=${spec.name}`, '--log-level=debug', '--allow-root', ...(spec.allowlistFlag === false ? [] : [`--compiler-allowlist=${TEST_ALLOWLIST.join(',')}`]), ...(spec.disableLinking === true ? ['--disable-linking'] : []), ...(spec.args ?? []),
      ];
      const full = spec.wrap !== undefined ? spec.wrap(argv) : argv;
      const child = spawn(full[0] ?? '', full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...workerEnv, ...spec.env } });
      record(logs, spec.name, child);
      workers.set(spec.name, child);
      await waitForLine(child, /registered with/, `worker ${spec.name}`);
      return child;
    },
    launcherArgs(mount, extra = [], kind = LAUNCHER_KIND) {
      return [launcherExe(kind), `--server-addr=${addr}`, `--fs-mount=${mount}`, `--agent-socket=${agentSocket}`, ...extra];
    },
    async restartServer() {
      const next = await startServer(port, `server-${++restarts}`);
      farm.server = next.child;
    },
    async stop() {
      const all = [...workers.values(), farm.server];
      for (const child of all) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(all.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      try {
        const pid = Number(readFileSync(path.join(agentDir, 'agent.pid'), 'utf8'));
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch {
        // no agent was started
      }
      rmSync(agentDir, { recursive: true, force: true });
    },
  };
  for (const spec of options.workers) await farm.startWorker(spec);
  return farm;
}

/** Dumps the farm's logs, for a failing test's diagnostics. */
export function farmLogs(farm: Farm): string {
  return [...farm.logs].map(([name, lines]) => `----- ${name}\n${lines.join('')}`).join('\n');
}
