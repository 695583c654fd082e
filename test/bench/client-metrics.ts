// Client-side costs against a real loopback farm: launcher+agent CPU per job, launcher RSS, added latency.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Writable } from 'node:stream';
import { askAgent } from '../../src/launcher/agent-client.js';
import { BIN, ROOT, farmLogs, startFarm, type Farm } from '../helpers/farm.js';
import { childrenCpuFromTimes, percentile, processCpuSeconds, sleep, statusKiB, yieldToLoop } from './stats.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const NODE = process.execPath;
/** What cmake/DistBuild.cmake runs: bin/distbuild-launch, a sh wrapper around bin/distbuild.cjs. */
const LAUNCH = path.join(path.dirname(BIN), 'distbuild-launch');

/**
 * The environments measured. Node parses the certificates of NODE_EXTRA_CA_CERTS at every
 * start (this machine sets it to the system bundle); the launcher's wrapper skips that, so
 * its cost is also measured against a baseline without the variable.
 */
export const ENVS = {
  machine: { ...process.env },
  clean: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS')),
} as const;
export type EnvName = keyof typeof ENVS;

export interface ClientFarm {
  readonly farm: Farm;
  readonly mount: string;
  /** The launchers' cwd, inside the mount. */
  readonly work: string;
  /** The launcher's argv up to and including --compiler. */
  readonly launcher: string[];
  /** argv of one no-op remote compile. */
  readonly noop: string[];
  /** The same launcher with a missing mount: it runs the command locally (launcher start-up cost only). */
  readonly localNoop: string[];
  agentPid(): number;
  readonly serverPid: number;
  readonly workerPids: readonly number[];
  stop(): Promise<void>;
}

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/** One server and one worker (4 slots) on loopback; the agent is started by a warm-up launcher call. */
export async function startClientFarm(): Promise<ClientFarm> {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-bench-client-'));
  const work = path.join(mount, 'w');
  mkdirSync(work);
  writeFileSync(path.join(work, 'a.c'), '');
  const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 4, args: ['--log-level=info'] }], serverArgs: ['--log-level=info'] });
  const launcher = [LAUNCH, ...farm.launcherArgs(mount).slice(1), '--compiler'];
  const noop = [...launcher, '--', '/bin/true', '-c', 'a.c', '-o', 'a.o'];
  const localNoop = [LAUNCH, ...farm.launcherArgs(path.join(mount, 'missing')).slice(1), '--compiler', ...noop.slice(launcher.length)];
  const agentPidFile = path.join(path.dirname(farm.agentSocket), 'agent.pid');
  const stop = async (): Promise<void> => {
    await farm.stop();
    rmSync(mount, { recursive: true, force: true });
  };
  try {
    const warm = await execa(LAUNCH, [...launcher.slice(1), '--verbose', ...noop.slice(launcher.length)], { cwd: work, reject: false });
    if (warm.exitCode !== 0 || !/\[remote /.test(warm.stderr)) {
      throw new Error(`the warm-up launcher did not run remotely (exit ${warm.exitCode}): ${warm.stderr}\n${farmLogs(farm)}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    farm, mount, work, launcher, noop, localNoop, stop,
    agentPid: () => Number(readFileSync(agentPidFile, 'utf8')),
    serverPid: farm.server.pid ?? 0,
    workerPids: [...farm.workers.values()].map((w) => w.pid ?? 0),
  };
}

async function bashLoopCpu(cwd: string, argv: readonly string[], n: number, env: NodeJS.ProcessEnv): Promise<number> {
  const cmd = argv.map(quote).join(' ');
  const script = `for i in $(seq ${n}); do ${cmd} >/dev/null 2>&1 || { echo "run $i failed" >&2; exit 1; }; done; times`;
  const out = await execa('bash', ['-c', script], { cwd, env, extendEnv: false });
  return childrenCpuFromTimes(out.stdout);
}

export interface CpuRun {
  /** (launcher CPU + agent CPU delta) per job ÷ `node -e 0` CPU per run. */
  readonly ratio: number;
  readonly launcherMs: number;
  readonly agentMs: number;
  readonly baselineMs: number;
  /** CPU of a launcher that falls back to a local run (no agent, no farm). */
  readonly localLauncherMs: number;
  /** Server CPU per job (on a real farm, spent on another machine). */
  readonly serverMs: number;
  /** Workers' CPU per job, the commands they ran excluded (spent on other machines). */
  readonly workerMs: number;
}

/** Metric 1: client CPU-seconds per remote job ÷ CPU of `node -e 0`, over `n` no-op compiles. */
export async function measureCpu(cf: ClientFarm, envName: EnvName, n = 200): Promise<CpuRun> {
  const env = ENVS[envName];
  const baseline = (await bashLoopCpu(cf.work, [NODE, '-e', '0'], n, env)) / n;
  const pid = cf.agentPid();
  const workersCpu = (): number => cf.workerPids.reduce((sum, p) => sum + processCpuSeconds(p), 0);
  const agentBefore = processCpuSeconds(pid);
  const serverBefore = processCpuSeconds(cf.serverPid);
  const workersBefore = workersCpu();
  const launchers = (await bashLoopCpu(cf.work, cf.noop, n, env)) / n;
  const agent = (processCpuSeconds(pid) - agentBefore) / n;
  const server = (processCpuSeconds(cf.serverPid) - serverBefore) / n;
  const workers = (workersCpu() - workersBefore) / n;
  if (cf.agentPid() !== pid) throw new Error('the agent was replaced during the CPU measurement');
  const local = (await bashLoopCpu(cf.work, cf.localNoop, n / 4, env)) / (n / 4);
  return {
    ratio: (launchers + agent) / baseline, launcherMs: launchers * 1000, agentMs: agent * 1000, baselineMs: baseline * 1000,
    localLauncherMs: local * 1000, serverMs: server * 1000, workerMs: workers * 1000,
  };
}

export interface RssRun {
  readonly launcherMiB: number;
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

/** Metric 2: peak RSS of a launcher waiting ~1.5 s into a 2 s remote job. */
export async function measureRss(cf: ClientFarm): Promise<RssRun> {
  const waiting = [...cf.launcher, '--', FAKE_CC, '2', '-c', 'a.c', '-o', 'a.o'];
  const launcherMiB = await hwmAfter(waiting, cf.work, 1500);
  const nodeMiB = await hwmAfter([NODE, '-e', 'setTimeout(() => {}, 2000)'], cf.work, 1500);
  return { launcherMiB, nodeMiB };
}

export interface LatencyRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly nodeMedianMs: number;
  readonly launcherMedianMs: number;
  /** Median wall time of a launcher that falls back to a local run, sampled every 4th iteration. */
  readonly localLauncherMedianMs: number;
}

function timedRun(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const [exe, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(exe ?? NODE, args, { cwd, stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: status ${r.status} ${r.error?.message ?? ''}`);
  return ms;
}

/** Metric 3: wall time of a launcher's no-op remote compile minus the median of `node -e 0`, interleaved. */
export async function measureLatency(cf: ClientFarm, envName: EnvName, n = 200): Promise<LatencyRun> {
  const env = ENVS[envName];
  const nodeMs: number[] = [];
  const launcherMs: number[] = [];
  const localMs: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 4 === 0) localMs.push(timedRun(cf.localNoop, cf.work, env));
    nodeMs.push(timedRun([NODE, '-e', '0'], cf.work, env));
    await yieldToLoop();
    launcherMs.push(timedRun(cf.noop, cf.work, env));
    await yieldToLoop();
  }
  const base = percentile(nodeMs, 50);
  const added = launcherMs.map((ms) => ms - base);
  return { p50Ms: percentile(added, 50), p99Ms: percentile(added, 99), nodeMedianMs: base, launcherMedianMs: percentile(launcherMs, 50),
    localLauncherMedianMs: percentile(localMs, 50),
  };
}

export interface RoundTripRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The farm's own share of metric 3: a no-op job sent to the agent from this process, as a
 * launcher sends it, timed from connect to answer (agent, server, worker, spawn, commit).
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
    if (answer.type !== 'exit' || answer.code !== 0) throw new Error(`round trip ${i}: ${JSON.stringify(answer.type === 'run-local' ? { type: answer.type } : answer)}`);
    await yieldToLoop();
  }
  return { p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
}
