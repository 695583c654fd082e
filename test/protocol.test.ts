// The protocol: every message round-trips through proto/distbuild.proto with the fields of the types generated from it.
import t from 'tap';
import type protobuf from 'protobufjs';
import { messageType } from '../src/protocol/proto-root.js';
import { createMessageCodec } from '../src/protocol/service-definition.js';
import { schedulerDefinition } from '../src/protocol/scheduler-service.js';
import { FRAME, createFrameReader, encodeFrame, encodeJson, type Frame } from '../src/protocol/agent-frames.js';
import type { Job, JobResult, ServerMessage, StatusReply, WorkerMessage } from '../src/protocol/messages.js';

const job: Job = {
  id: 'j1', kind: 'JOB_KIND_COMPILE', argv: ['gcc', '-c', 'a.c'], cwd: 'src', clientMount: '/mnt/shared',
  env: { LANG: 'C' }, dirs: ['src'], timeoutMs: 5, client: 'h:1', outputs: ['src/a.o'], compiler: 'gcc (Debian 12.2.0-14) 12.2.0|x86_64-linux-gnu', cacheStore: true,
};

function roundTrip<T>(name: string, value: T): T {
  const codec = createMessageCodec<T>(messageType(name) as protobuf.Type);
  return codec.decode(codec.encode(value));
}

t.test('a job round-trips with every field', async (t) => {
  t.same(roundTrip('Job', job), job);
});

t.test('oneofs decode with their discriminant', async (t) => {
  const m: ServerMessage = { msg: 'assign', assign: { job, attemptId: 'a1', attempt: 2, timeoutMs: 9 } };
  t.same(roundTrip('ServerMessage', m), m);
  const w: WorkerMessage = { msg: 'update', update: { state: 'WORKER_STATE_DRAINING', maxJobs: 4 } };
  t.same(roundTrip('WorkerMessage', w), w);
});

t.test('results keep stdout and stderr bytes exactly', async (t) => {
  const bytes = Uint8Array.from([0, 255, 10, 13, 0xc3, 0x28]);
  const r: JobResult = {
    jobId: 'j1', outcome: 'OUTCOME_COMPLETED', exitCode: 1, stdout: bytes, stderr: Buffer.from('err\n'), durationMs: 12,
    worker: 'w1', outputs: [{ path: 'a.o', sizeBytes: 2 ** 40, mtimeMs: 1764547200123.4567 }], failure: 'FAILURE_KIND_UNSPECIFIED', message: '',
    attempts: [{ worker: 'w2', failure: 'FAILURE_KIND_WORKER_LOST', message: 'gone' }], queuedMs: 3, outputTruncated: false,
  };
  const back = roundTrip('JobResult', r);
  t.same(Buffer.from(back.stdout), Buffer.from(bytes));
  t.equal(back.outputs[0]?.sizeBytes, 2 ** 40, 'uint64 sizes as numbers');
  t.same(Object.keys(back).sort(), Object.keys(r).sort(), 'exactly the fields of the generated type');
});

t.test('status replies fill every field', async (t) => {
  const s = roundTrip<StatusReply>('StatusReply', {
    state: 'running', workers: [], queued: 0, running: [], uptimeMs: 1, version: '0', finished: [], clients: [],
    totals: { submitted: 1, succeeded: 1, compileErrors: 0, failed: 0, retries: 0, compiles: 1, links: 0, localityHits: 0, localityMisses: 0, cacheHits: 2, cacheMisses: 1 },
  });
  t.equal(s.totals.submitted, 1);
});

t.test('an absent message field decodes to its defaults, as the generated types say', async (t) => {
  const m = roundTrip<ServerMessage>('ServerMessage', { msg: 'assign', assign: { attemptId: 'a1', attempt: 1, timeoutMs: 0 } } as unknown as ServerMessage);
  t.equal(m.msg, 'assign');
  if (m.msg !== 'assign') return;
  t.same(m.assign.job, { id: '', kind: 'JOB_KIND_UNSPECIFIED', argv: [], cwd: '', clientMount: '', env: {}, dirs: [], timeoutMs: 0, client: '', outputs: [], compiler: '', cacheStore: false });
  const s = roundTrip<StatusReply>('StatusReply', { state: 'running' } as unknown as StatusReply);
  t.equal(s.totals.submitted, 0, 'a nested message too');
});

t.test('malformed bytes are an error, not a crash', async (t) => {
  const codec = createMessageCodec<WorkerMessage>(messageType('WorkerMessage') as protobuf.Type);
  t.throws(() => codec.decode(Uint8Array.from([0xff, 0xff, 0xff])));
});

t.test('the service definition matches the proto', async (t) => {
  const def = schedulerDefinition();
  t.equal(def.submitJobs.path, '/distbuild.v1.Scheduler/SubmitJobs');
  t.equal(def.work.requestStream, true);
  t.equal(def.getStatus.responseStream, false);
});

t.test('agent frames split a stream at any boundary', async (t) => {
  const frames: Frame[] = [];
  const read = createFrameReader((f) => frames.push(f));
  const bytes = Buffer.concat([encodeFrame(FRAME.STDOUT, Buffer.from('out')), encodeJson({ type: 'fallback', reason: 'x' })]);
  for (const b of bytes) read(Buffer.from([b]));
  t.same(frames.map((f) => f.type), [FRAME.STDOUT, FRAME.JSON]);
  t.same(JSON.parse(frames[1]?.payload.toString() ?? ''), { type: 'fallback', reason: 'x' });
  t.throws(() => createFrameReader(() => undefined)(Buffer.from([0xff, 0xff, 0xff, 0xff, 1])), /bad frame length/);
});
