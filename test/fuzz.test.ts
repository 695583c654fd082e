// Fuzzing: 10,000+ mutated protobuf messages to the server (all three RPCs) and 10,000+ to a real worker; both live on.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Metadata, Server, ServerCredentials, credentials, status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import t from 'tap';
import type { Job, ServerMessage, SubmitJobsRequest, WorkerMessage } from '../src/protocol/messages.js';
import { schedulerDefinition } from '../src/protocol/scheduler-service.js';
import { BIN, ROOT, TEST_ALLOWLIST, childEnv, startFarm } from './helpers/farm.js';
import { createRandom, mutate, type Random } from './helpers/mutate.js';
import { GET_STATUS, SUBMIT_JOBS, WORK, rawCall, rawClient } from './helpers/raw-grpc.js';
import { createJobSubmitter } from './helpers/submit-job.js';

const TARGET = 10_000;
const SEED = Number(process.env.DISTBUILD_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
t.comment(`seed ${SEED} (replay with DISTBUILD_FUZZ_SEED=${SEED})`);
const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-fuzz-'));
mkdirSync(path.join(mount, 'w', 'sub'), { recursive: true });
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const def = schedulerDefinition();
const pick = <T>(r: Random, xs: readonly T[]): T => xs[r.int(xs.length)] as T;

const job = (over: Partial<Job> = {}): Job => ({
  id: 'fuzz-1', kind: 'JOB_KIND_COMPILE', argv: ['gcc', '-c', 'a.c', '-o', 'sub/a.o', '-Iinc'], cwd: 'w', clientMount: mount, env: { LANG: 'C' },
  dirs: ['w', 'w/sub'], timeoutMs: 1000, client: 'fuzz', outputs: ['w/sub/a.o'], compiler: '', cacheStore: false, ...over,
});
const submit = (jobs: Job[]): SubmitJobsRequest => ({ jobs, protocolVersion: 'PROTOCOL_VERSION_1' });
const REGISTER: WorkerMessage = {
  msg: 'register',
  register: {
    name: 'fuzz', maxJobs: 2, canLink: true, compilers: [{ path: '/usr/bin/gcc', name: 'gcc', version: '1', identity: '', sha256: '', foundAt: '' }], memoryTotalBytes: 1e9, memoryFreeBytes: 1e8,
    fsMount: mount, version: '0', protocolVersion: 'PROTOCOL_VERSION_1', hostname: 'fuzz', runningAttempts: ['a1'], acceptsBatches: true,
  },
};
const toServer = {
  submit: [submit([job()]), submit([job(), job({ id: 'fuzz-2', kind: 'JOB_KIND_LINK', argv: ['g++', 'a.o', '-o', 'app'] })])].map((m) => Buffer.from(def.submitJobs.requestSerialize(m))),
  work: ([
    REGISTER,
    { msg: 'result', result: {
      attemptId: 'a1', jobId: 'fuzz-1', outcome: 'OUTCOME_COMPLETED', exitCode: 0, stdout: Buffer.from('x'), stderr: Buffer.from('y'), durationMs: 5,
      outputs: [{ path: 'w/sub/a.o', sizeBytes: 10, mtimeMs: 0 }], failure: 'FAILURE_KIND_UNSPECIFIED', message: '', outputTruncated: false, memoryFreeBytes: 1, staged: true } },
    { msg: 'renew', renew: { attemptIds: ['a1', 'a2'] } },
    { msg: 'dirs', dirs: { full: true, dirs: ['w', 'w/sub'], removed: ['x'] } },
    { msg: 'update', update: { state: 'WORKER_STATE_DRAINING', maxJobs: 3 } },
  ] satisfies WorkerMessage[]).map((m) => Buffer.from(def.work.requestSerialize(m))),
};

/** Runs `one` from `parallel` loops until it has counted `target`. */
async function until(target: number, parallel: number, one: () => Promise<number>): Promise<number> {
  let sent = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (sent < target) {
      const n = await one();
      sent += n;
    }
  }));
  return sent;
}

t.test('the server survives mutated SubmitJobs, Work and GetStatus messages', async (t) => {
  const r = createRandom(SEED);
  const farm = await startFarm({ workers: [], serverArgs: ['--queue-timeout=1s'] });
  t.teardown(() => farm.stop());
  const client = rawClient(farm.addr, credentials.createInsecure());
  t.teardown(() => client.close());
  const codes = new Map<string, number>();
  const started = performance.now();
  const sent = await until(TARGET, 32, async () => {
    const k = r.int(20);
    let method: string;
    let frames: Buffer[];
    if (k < 9) [method, frames] = [SUBMIT_JOBS, [mutate(pick(r, toServer.submit), r)]];
    else if (k < 17) {
      method = WORK;
      frames = r.int(2) === 0 ? [mutate(pick(r, toServer.work), r)] : [toServer.work[0] as Buffer, ...Array.from({ length: 1 + r.int(4) }, () => mutate(pick(r, toServer.work), r))];
    } else [method, frames] = [GET_STATUS, [r.int(4) === 0 ? Buffer.alloc(0) : mutate(pick(r, toServer.submit), r)]];
    const outcome = await rawCall(client, method, frames, new Metadata(), 5000);
    const key = `${method.slice(method.lastIndexOf('/') + 1)} ${GrpcStatus[outcome.code]}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
    return frames.length;
  });
  const ms = Math.round(performance.now() - started);
  t.comment(`${sent} messages to the server in ${ms} ms: ${[...codes].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.ok(sent >= TARGET, `${sent} messages sent`);
  t.equal(farm.server.exitCode, null, 'the server is still running');
  const status = await farm.status();
  t.equal(status.state, 'running', 'GetStatus still answers');
  t.same(status.workers.map((w) => w.name), [], 'no fuzzed worker session outlived its call');
  await farm.startWorker({ name: 'w1', mount });
  const jobs = createJobSubmitter(farm.addr, mount);
  t.teardown(() => jobs.close());
  const good = await jobs.submit([FAKE_CC, '0', '-c', 'a.c', '-o', 'sub/good.o']);
  t.equal(good.outcome, 'OUTCOME_COMPLETED', `a good job still runs (${good.message})`);
  t.ok(existsSync(path.join(mount, 'w', 'sub', 'good.o')));
});

t.test('a worker survives mutated ServerMessages on its Work stream', async (t) => {
  const r = createRandom(SEED + 1);
  const PER_SESSION = 500;
  const registered: ServerMessage = { msg: 'registered', registered: { workerId: 'w', leaseMs: 30_000, protocolVersion: 'PROTOCOL_VERSION_1', acceptsBatches: true } };
  const assign = (argv: string[], attemptId: string): ServerMessage => ({ msg: 'assign', assign: { job: job({ argv, outputs: [] }), attemptId, attempt: 1, timeoutMs: 5000 } });
  const toWorker = [
    registered,
    assign(['/usr/bin/not-allowed-cc', '-c', 'a.c', '-o', 'sub/x.o'], 'a1'),
    assign(['/bin/true', '-c', 'a.c'], 'a2'), // runs: kept rare below
    { msg: 'cancel', cancel: { attemptId: 'a1', reason: 'fuzz' } },
    { msg: 'commit', commit: { attemptId: 'a1', publish: true, leaseRemainingMs: 1000 } },
  ] satisfies ServerMessage[];
  const encoded = toWorker.map((m) => Buffer.from(def.work.responseSerialize(m)));
  const decodes = (b: Buffer): boolean => {
    try {
      def.work.responseDeserialize(b);
      return true;
    } catch {
      return false;
    }
  };
  const base = (): Buffer => {
    const i = r.int(20);
    return encoded[i === 0 ? 2 : i < 8 ? 1 : i < 11 ? 0 : i < 15 ? 3 : 4] as Buffer;
  };
  let sent = 0;
  let sessions = 0;
  let good: ((call: ServerDuplexStream<Buffer, Buffer>) => void) | undefined;
  let fuzzDone: () => void = () => undefined;
  const fuzzed = new Promise<void>((resolve) => {
    fuzzDone = resolve;
  });
  const server = new Server();
  const same = (b: Buffer): Buffer => b;
  server.register(WORK, (call: ServerDuplexStream<Buffer, Buffer>) => {
    sessions++;
    call.on('error', () => undefined);
    if (sent >= TARGET) {
      fuzzDone();
      good?.(call);
      return;
    }
    call.on('data', () => undefined);
    call.write(encoded[0] as Buffer);
    let n = 1;
    while (n < PER_SESSION) {
      const m = mutate(base(), r);
      if (!decodes(m)) continue;
      call.write(m);
      n++;
    }
    // Some sessions end with bytes that do not decode at all; the others end cleanly.
    if (r.int(3) === 0) {
      let bad = r.bytes(16);
      while (decodes(bad)) bad = r.bytes(16);
      call.write(bad);
      n++;
    }
    sent += n;
    call.end();
  }, same, same, 'bidi');
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))));
  t.teardown(() => server.forceShutdown());
  const started = performance.now();
  const worker = spawn(process.execPath, [BIN, '--worker', `--server-addr=127.0.0.1:${port}`, `--fs-mount=${mount}`, '--name=fuzzed', '--max-jobs=4', '--allow-root',
    `--compiler-allowlist=${TEST_ALLOWLIST.join(',')}`, '--log-level=error'], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  worker.stderr.on('data', (c: Buffer) => {
    if (stderr.length < 20_000) stderr += c.toString();
  });
  t.teardown(() => {
    if (worker.exitCode === null) worker.kill('SIGKILL');
  });
  const exited = new Promise<string>((resolve) => worker.once('exit', (code, signal) => resolve(`the worker exited (${code ?? signal})`)));
  // The good job, once the fuzzing is over: staged, committed, published.
  const result = new Promise<WorkerMessage[]>((resolve) => {
    good = (call) => {
      const seen: WorkerMessage[] = [];
      call.on('data', (b: Buffer) => {
        const m = def.work.requestDeserialize(b);
        if (m.msg !== 'result' || m.result.attemptId !== 'good') return;
        seen.push(m);
        if (m.result.staged) call.write(Buffer.from(def.work.responseSerialize({ msg: 'commit', commit: { attemptId: 'good', publish: true, leaseRemainingMs: 20_000 } })));
        else resolve(seen);
      });
      call.write(encoded[0] as Buffer);
      call.write(Buffer.from(def.work.responseSerialize({ msg: 'assign', assign: { job: job({ id: 'good', argv: [FAKE_CC, '0', '-c', 'a.c', '-o', 'sub/fuzz-good.o'] }), attemptId: 'good', attempt: 1, timeoutMs: 10_000 } })));
    };
  });
  const outcome = await Promise.race([fuzzed.then(() => result), exited]);
  const ms = Math.round(performance.now() - started);
  t.comment(`${sent} messages to the worker over ${sessions - 1} sessions, then a good job, in ${ms} ms`);
  t.ok(sent >= TARGET, `${sent} messages sent`);
  t.equal(worker.exitCode, null, 'the worker is still running');
  t.ok(Array.isArray(outcome), typeof outcome === 'string' ? `${outcome}: ${stderr}` : 'the worker answered the good job');
  if (Array.isArray(outcome)) {
    const final = outcome.at(-1);
    t.equal(final?.msg === 'result' ? final.result.outcome : undefined, 'OUTCOME_COMPLETED', 'the good job completed');
    t.ok(existsSync(path.join(mount, 'w', 'sub', 'fuzz-good.o')), 'and its output was published');
  }
  t.notMatch(stderr, /uncaught|unhandled/i, 'nothing went unhandled in the worker');
});
