// Client-side costs against a real loopback farm: client + agent CPU per job, the client's RSS, added latency; the server's and worker's CPU per job.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execa } from 'execa';
import { askAgent } from '../../src/launcher/agent-client.js';
import { ROOT, childEnv, farmLogs, launcherExe, startFarm, type Farm } from '../helpers/farm.js';
import { warmFarm } from './warm-farm.js';
import { childrenCpuFromTimes, percentile, processCpuSeconds, sleep, statusKiB, yieldToLoop } from './stats.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const NODE = process.execPath;
/** The no-op command of every job. */
const NOOP = ['/bin/true', '-c', 'a.c', '-o', 'a.o'];

/** This process's environment as a build has it (without the npm_* variables that `npm run bench` adds). */
const buildEnv = childEnv();

/**
 * The environments measured. Node parses the certificates of NODE_EXTRA_CA_CERTS at every
 * start (this machine sets it to the system bundle); the baseline `node -e 0` is measured in
 * both, so the ratio is shown against the fast baseline too.
 */
export const ENVS = {
  machine: buildEnv,
  clean: Object.fromEntries(Object.entries(buildEnv).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS')),
} as const;
export type EnvName = keyof typeof ENVS;

export interface ClientFarm {
  readonly farm: Farm;
  readonly mount: string;
  /** The clients' cwd, inside the mount. */
  readonly work: string;
  /** The client's argv up to and including --compiler, as CMake starts it. */
  readonly client: string[];
  /** argv of one no-op remote compile. */
  readonly noop: string[];
  agentPid(): number;
  readonly serverPid: number;
  readonly workerPid: number;
  /** The worker's spawner process: part of the worker's cost. */
  readonly spawnerPid: number;
  stop(): Promise<void>;
}

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** One server and one worker (4 slots) on loopback; the agent is started by a warm-up job. */
export async function startClientFarm(): Promise<ClientFarm> {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-bench-client-'));
  const work = path.join(mount, 'w');
  mkdirSync(work);
  writeFileSync(path.join(work, 'a.c'), '');
  const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 4, args: ['--log-level=info'] }], serverArgs: ['--log-level=info'] });
  const [exe = launcherExe(), ...flags] = farm.launcherArgs(mount);
  const client = [exe, ...flags, '--compiler'];
  const noop = [...client, '--', ...NOOP];
  const agentPidFile = path.join(path.dirname(farm.agentSocket), 'agent.pid');
  const stop = async (): Promise<void> => {
    await farm.stop();
    rmSync(mount, { recursive: true, force: true });
  };
  try {
    const warm = await execa(exe, [...flags, '--verbose', '--compiler', '--', ...NOOP], { cwd: work, reject: false });
    if (warm.exitCode !== 0 || !/\[remote /.test(warm.stderr)) {
      throw new Error(`the warm-up job did not run remotely (exit ${warm.exitCode}): ${warm.stderr}\n${farmLogs(farm)}`);
    }
    await warmFarm(farm, mount);
    const workerPid = farm.workers.get('w1')?.pid ?? 0;
    const spawner = await execa('pgrep', ['-f', 'spawner-process.js', '-P', String(workerPid)], { reject: false });
    return {
      farm, mount, work, client, noop, stop,
      agentPid: () => Number(readFileSync(agentPidFile, 'utf8')),
      serverPid: farm.server.pid ?? 0,
      workerPid,
      spawnerPid: Number(spawner.stdout.split('\n')[0] ?? 0),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** CPU seconds of the `n` runs of `argv` that a bash loop starts (its children's user + system). */
async function bashLoopCpu(cwd: string, argv: readonly string[], n: number, env: NodeJS.ProcessEnv): Promise<number> {
  const cmd = argv.map(quote).join(' ');
  const script = `for i in $(seq ${n}); do ${cmd} >/dev/null 2>&1 || { echo "run $i failed" >&2; exit 1; }; done; times`;
  const out = await execa('bash', ['-c', script], { cwd, env, extendEnv: false });
  return childrenCpuFromTimes(out.stdout);
}

export interface CpuRun {
  /** (client CPU + agent CPU delta) per job ÷ `node -e 0` CPU per run. */
  readonly ratio: number;
  readonly clientMs: number;
  readonly agentMs: number;
  readonly baselineMs: number;
  /** Server CPU per job, one job in flight (on a real farm, spent on another machine). */
  readonly serverMs: number;
  /** The worker's CPU per job with its spawner's, the commands it ran excluded. */
  readonly workerMs: number;
  readonly spawnerMs: number;
}

/** Metrics 1 and 7: CPU per remote no-op job of each part, one job at a time, over `n` jobs. */
export async function measureCpu(cf: ClientFarm, envName: EnvName, n = 200): Promise<CpuRun> {
  const env = ENVS[envName];
  const baseline = (await bashLoopCpu(cf.work, [NODE, '-e', '0'], n, env)) / n;
  const pid = cf.agentPid();
  const pids = [pid, cf.serverPid, cf.workerPid, cf.spawnerPid];
  const before = pids.map((p) => (p > 0 ? processCpuSeconds(p) : 0));
  const clients = (await bashLoopCpu(cf.work, cf.noop, n, env)) / n;
  const after = pids.map((p) => (p > 0 ? processCpuSeconds(p) : 0));
  if (cf.agentPid() !== pid) throw new Error('the agent was replaced during the CPU measurement');
  const [agent = 0, server = 0, worker = 0, spawner = 0] = after.map((v, i) => (v - (before[i] ?? 0)) / n);
  return {
    ratio: (clients + agent) / baseline, clientMs: clients * 1000, agentMs: agent * 1000, baselineMs: baseline * 1000,
    serverMs: server * 1000, workerMs: (worker + spawner) * 1000, spawnerMs: spawner * 1000,
  };
}

export interface RssRun {
  readonly clientMiB: number;
  /** VmHWM of a plain `node` waiting on a timer, for comparison. */
  readonly nodeMiB: number;
}

async function hwmAfter(argv: readonly string[], cwd: string, ms: number): Promise<number> {
  const [exe, ...args] = argv;
  const child = spawn(exe ?? NODE, args, { cwd, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await sleep(ms);
  if (child.pid === undefined || child.exitCode !== null) throw new Error(`${argv.join(' ')} exited before its RSS was read`);
  const kib = statusKiB(child.pid, 'VmHWM');
  const code = await exited;
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}`);
  return kib / 1024;
}

/** Metric 2: peak RSS of a client waiting ~1.5 s into a 2 s remote job. */
export async function measureRss(cf: ClientFarm): Promise<RssRun> {
  const waiting = [...cf.client, '--', FAKE_CC, '2', '-c', 'a.c', '-o', 'a.o'];
  const clientMiB = await hwmAfter(waiting, cf.work, 1500);
  const nodeMiB = await hwmAfter([NODE, '-e', 'setTimeout(() => {}, 2000)'], cf.work, 1500);
  return { clientMiB, nodeMiB };
}

export interface LatencyRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Median wall time of the no-op command run here, directly. */
  readonly localMedianMs: number;
  readonly clientMedianMs: number;
}

function timedRun(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const [exe, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(exe ?? NODE, args, { cwd, stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: status ${r.status} ${r.error?.message ?? ''}`);
  return ms;
}

/**
 * Metric 3: what the farm adds to a job: the wall time of a no-op job through the client
 * (agent, server, worker, spawn, commit, and back) minus the median wall time of running the
 * same command here directly; interleaved.
 */
export async function measureLatency(cf: ClientFarm, n = 200): Promise<LatencyRun> {
  const env = ENVS.machine;
  const localMs: number[] = [];
  const clientMs: number[] = [];
  for (let i = 0; i < n; i++) {
    localMs.push(timedRun(NOOP, cf.work, env));
    await yieldToLoop();
    clientMs.push(timedRun(cf.noop, cf.work, env));
    await yieldToLoop();
  }
  const base = percentile(localMs, 50);
  const added = clientMs.map((ms) => ms - base);
  return { p50Ms: percentile(added, 50), p99Ms: percentile(added, 99), localMedianMs: base, clientMedianMs: percentile(clientMs, 50) };
}

export interface RoundTripRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The farm's own share of metric 3: a no-op job sent to the agent from this process, as a
 * client sends it, timed from connect to answer (agent, server, worker, spawn, commit).
 */
export async function measureRoundTrip(cf: ClientFarm, n = 200): Promise<RoundTripRun> {
  const flag = (name: string): string => cf.noop.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
  const socket = flag('agent-socket');
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const env = Object.entries(ENVS.clean).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const request = { flags: 0, pid: process.pid, id: `bench-rt-${process.pid}-${i}-${Date.now()}`, cwd: cf.work, argv: ['distbuild', ...cf.noop.slice(1)], env };
    const start = process.hrtime.bigint();
    const answer = await askAgent(socket, request, [], { stdout: sink, stderr: sink });
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (answer.type !== 'exit' || answer.code !== 0) throw new Error(`round trip ${i}: ${answer.type}`);
    await yieldToLoop();
  }
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
}
