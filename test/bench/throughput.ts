// Metrics 8 and 9: no-op jobs per second, end to end (a client process per job, as ninja starts them) and through the server alone (simulated workers).
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createChannel as createGrpcChannel, createClient } from 'nice-grpc';
import { coalesce, createChannel } from '../../src/common/channel.js';
import type { Job, JobsRequest, JobsResponse, ServerMessage, WorkerMessage } from '../../src/protocol/messages.js';
import { schedulerDefinition } from '../../src/protocol/scheduler-service.js';
import { BIN, NATIVE_CLIENT, childEnv, farmLogs, startFarm, waitForLine } from '../helpers/farm.js';
import { processCpuSeconds } from './stats.js';
import { warmFarm } from './warm-farm.js';

export interface EndToEndRun {
  readonly jobsPerSecond: number;
  readonly jobs: number;
  readonly seconds: number;
  /** CPU of the agent, the server and the worker (with its spawner) per job. */
  readonly agentMs: number;
  readonly serverMs: number;
  readonly workerMs: number;
}

/**
 * Metric 8: `ninja -jJ` of N no-op compiles, each through the native client as CMake starts it,
 * to one server and one worker of `slots` slots; jobs per second of wall time.
 */
export async function measureEndToEnd(jobs = 3000, parallel = 32, slots = 32): Promise<EndToEndRun> {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-bench-e2e-'));
  // info: the farm helper waits for the worker's "registered with" line.
  const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: slots, args: ['--log-level=info'] }], serverArgs: ['--log-level=info'] });
  try {
    const dir = path.join(mount, 'w');
    mkdirSync(dir);
    const [exe = NATIVE_CLIENT, ...flags] = farm.launcherArgs(mount);
    const edges = Array.from({ length: jobs }, (_, i) => `build o${i}.o: cc s${i}.c`);
    writeFileSync(path.join(dir, 'build.ninja'), ['rule cc', `  command = ${exe} --compiler ${flags.join(' ')} -- /bin/true -c $in -o $out`, ...edges, ''].join('\n'));
    for (let i = 0; i < jobs; i++) writeFileSync(path.join(dir, `s${i}.c`), '');
    // The agent is up before the clock starts, as in a build that follows another.
    const warm = await execa(exe, [...flags, '--compiler', '--', '/bin/true', '-c', 'warm.c', '-o', 'warm.o'], { cwd: dir, reject: false });
    if (warm.exitCode !== 0) throw new Error(`warm-up failed: ${warm.stderr}\n${farmLogs(farm)}`);
    await warmFarm(farm, mount);
    const agentPid = Number((await execa('cat', [path.join(path.dirname(farm.agentSocket), 'agent.pid')])).stdout);
    const worker = farm.workers.get('w1')?.pid ?? 0;
    const spawnerPid = Number((await execa('pgrep', ['-f', 'spawner-process.js', '-P', String(worker)], { reject: false })).stdout.split('\n')[0] ?? 0);
    const cpu = (): number[] => [agentPid, farm.server.pid ?? 0, worker, spawnerPid].map((p) => (p > 0 ? processCpuSeconds(p) : 0));
    const before = cpu();
    const start = process.hrtime.bigint();
    const r = await execa('ninja', ['-C', dir, `-j${parallel}`], { reject: false, all: true, env: childEnv(), extendEnv: false });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const after = cpu();
    if (r.exitCode !== 0) throw new Error(`ninja failed:\n${r.all.slice(-2000)}`);
    const d = after.map((v, i) => ((v - (before[i] ?? 0)) * 1000) / jobs);
    return { jobsPerSecond: jobs / seconds, jobs, seconds, agentMs: d[0] ?? 0, serverMs: d[1] ?? 0, workerMs: (d[2] ?? 0) + (d[3] ?? 0) };
  } finally {
    await farm.stop();
    rmSync(mount, { recursive: true, force: true });
  }
}

export interface ServerAloneRun {
  readonly jobsPerSecond: number;
  readonly jobs: number;
  readonly seconds: number;
  /** Server CPU per job. */
  readonly serverMs: number;
}

/** One simulated worker: every assignment completes at once, staged; a commit publishes. */
async function simulatedWorker(addr: string, name: string, slots: number, signal: AbortSignal): Promise<void> {
  const channel = createGrpcChannel(addr);
  const client = createClient(schedulerDefinition(), channel);
  const outbox = createChannel<WorkerMessage>(signal);
  outbox.push({
    msg: 'register',
    register: {
      name, maxJobs: slots, canLink: true, compilers: [], memoryTotalBytes: 1e9, memoryFreeBytes: 1e9, fsMount: '/sim', version: 'bench',
      protocolVersion: 'PROTOCOL_VERSION_1', hostname: name, runningAttempts: [], acceptsBatches: true,
    },
  });
  const result = (attemptId: string, jobId: string, staged: boolean): WorkerMessage => ({
    msg: 'result',
    result: {
      attemptId, jobId, outcome: 'OUTCOME_COMPLETED', exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), durationMs: 1, outputs: [],
      failure: 'FAILURE_KIND_UNSPECIFIED', message: '', outputTruncated: false, memoryFreeBytes: 1e9, staged,
    },
  });
  const jobOf = new Map<string, string>();
  const handle = (m: ServerMessage): void => {
    if (m.msg === 'assign') {
      jobOf.set(m.assign.attemptId, m.assign.job.id);
      outbox.push(result(m.assign.attemptId, m.assign.job.id, true));
    } else if (m.msg === 'commit') {
      const jobId = jobOf.get(m.commit.attemptId) ?? '';
      jobOf.delete(m.commit.attemptId);
      outbox.push(result(m.commit.attemptId, jobId, false));
    } else if (m.msg === 'batch') {
      for (const inner of m.batch.messages) handle(inner);
    }
  };
  try {
    const messages = coalesce(outbox, (batch): WorkerMessage => ({ msg: 'batch', batch: { messages: batch } }));
    for await (const m of client.work(messages, { signal })) handle(m);
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    channel.close();
  }
}

/**
 * Metric 9: the real server process with `workers` simulated workers of `slots` slots (in this
 * process) and one simulated agent that keeps `window` jobs in flight on one Jobs stream, in
 * batches of 32; jobs per second of wall time over `jobs` jobs.
 */
export async function measureServerAlone(jobs = 40_000, workers = 8, slots = 64, window = 768): Promise<ServerAloneRun> {
  const server = spawn(process.execPath, [BIN, '--server', '--listen=127.0.0.1:0', '--log-level=warn'], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  const stop = new AbortController();
  setMaxListeners(64, stop.signal);
  try {
    const line = await waitForLine(server, /^distbuild server listening on /, 'the server');
    const addr = `127.0.0.1:${/:(\d+)$/.exec(line)?.[1] ?? ''}`;
    const sims = Array.from({ length: workers }, (_, i) => simulatedWorker(addr, `sim${i}`, slots, stop.signal));
    const channel = createGrpcChannel(addr);
    const client = createClient(schedulerDefinition(), channel);
    const requests = createChannel<JobsRequest>(stop.signal);
    const job = (i: number): Job => ({
      id: `bench-${process.pid}-${i}`, kind: 'JOB_KIND_COMPILE', argv: ['cc', '-c', `d${i % 50}/f${i}.c`, '-o', `d${i % 50}/f${i}.o`], cwd: 'b',
      clientMount: '/sim', env: {}, dirs: [`d${i % 50}`], timeoutMs: 0, client: 'bench', outputs: [], compiler: '', cacheStore: false,
    });
    let next = 0;
    let done = 0;
    const submit = (n: number): void => {
      const batch: Job[] = [];
      while (batch.length < n && next < jobs) batch.push(job(next++));
      for (let i = 0; i < batch.length; i += 32) requests.push({ msg: 'submit', submit: { jobs: batch.slice(i, i + 32), protocolVersion: 'PROTOCOL_VERSION_1' } });
    };
    // Wait for the simulated workers to register, then run.
    for (let i = 0; ; i++) {
      const status = await client.getStatus({});
      if (status.workers.length === workers) break;
      if (i > 200) throw new Error('the simulated workers did not register');
      await new Promise((r) => setTimeout(r, 25));
    }
    const cpuBefore = processCpuSeconds(server.pid ?? 0);
    const start = process.hrtime.bigint();
    submit(window);
    let finished = 0;
    const count = (m: JobsResponse): void => {
      if (m.msg === 'result') finished++;
      else if (m.msg === 'batch') for (const inner of m.batch.messages) count(inner);
      else throw new Error(`refused: ${m.refused.message}`);
    };
    for await (const m of client.jobs(requests, { signal: stop.signal })) {
      const was = finished;
      count(m);
      done += finished - was;
      submit(finished - was);
      if (done >= jobs) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const serverMs = ((processCpuSeconds(server.pid ?? 0) - cpuBefore) * 1000) / jobs;
    stop.abort();
    await Promise.allSettled(sims);
    channel.close();
    return { jobsPerSecond: jobs / seconds, jobs, seconds, serverMs };
  } finally {
    stop.abort();
    server.kill('SIGKILL');
  }
}
