// A worker runs only allowlisted executables, inside its mount, without code-loading flags or loader env.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, createClient } from 'nice-grpc';
import t from 'tap';
import type { Job, JobResult } from '../src/protocol/messages.js';
import { schedulerDefinition } from '../src/protocol/scheduler-service.js';
import { ROOT, TEST_ALLOWLIST, startFarm } from './helpers/farm.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const PRINT_ENV = path.join(ROOT, 'test', 'fixtures', 'print-env.sh');
const LOUD_CC = path.join(ROOT, 'test', 'fixtures', 'loud-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-confine-'));
const outside = mkdtempSync(path.join(os.tmpdir(), 'distbuild-outside-'));
mkdirSync(path.join(mount, 'w', 'sub'), { recursive: true });
symlinkSync(outside, path.join(mount, 'w', 'link'));
t.teardown(() => {
  rmSync(mount, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const farm = await startFarm({ workers: [{ name: 'w1', mount, args: [`--compiler-allowlist=${[...TEST_ALLOWLIST, PRINT_ENV, LOUD_CC].join(',')}`, '--max-output-bytes=4096'] }] });
t.teardown(() => farm.stop());
const channel = createChannel(farm.addr);
t.teardown(() => channel.close());
const client = createClient(schedulerDefinition(), channel);

let n = 0;
async function submit(argv: string[], over: Partial<Job> = {}): Promise<JobResult> {
  const job: Job = { id: `confine-${n++}-${Date.now()}`, kind: 'JOB_KIND_COMPILE', argv, cwd: 'w', clientMount: mount, env: {}, dirs: [], timeoutMs: 0, client: 'test', outputs: [], ...over };
  for await (const m of client.submitJobs({ jobs: [job], protocolVersion: 'PROTOCOL_VERSION_1' })) if (m.msg === 'result') return m.result;
  throw new Error('no result');
}

t.test('hostile jobs are refused with the reason, and nothing is written outside the mount', async (t) => {
  const cases: Array<[string[], RegExp, Partial<Job>?]> = [
    [['/bin/sh', '-c', `touch ${outside}/canary`], /"\/bin\/sh" .* is not on this worker's allowlist \(setting compiler_allowlist\)/],
    [['python3', '-c', 'print(1)'], /not on this worker's allowlist/],
    [[FAKE_CC, '0', '-c', 'a.c', '-o', '../../escape.o'], /resolves to .*escape\.o, outside the mount/],
    [[FAKE_CC, '0', '-c', 'a.c', '-o', 'link/x.o'], /resolves to .*x\.o, outside the mount/],
    [[FAKE_CC, '0', '-c', 'a.c', '-o', 'sub/a.o', '-fplugin=/tmp/evil.so'], /-fplugin.*\(setting allow_flags\)/],
    [[FAKE_CC, '0', '-specs=/tmp/evil.specs', '-c', 'a.c'], /allow_flags/],
    [[FAKE_CC, '0', '-B/tmp/evil/', '-c', 'a.c'], /allow_flags/],
    [[FAKE_CC, '0', '-c', 'a.c'], /outside the mount/, { cwd: '../../etc' }],
  ];
  for (const [argv, why, over] of cases) {
    const r = await submit(argv, over);
    t.equal(r.outcome, 'OUTCOME_REJECTED', `refused: ${argv.join(' ')}`);
    t.equal(r.failure, 'FAILURE_KIND_INVALID_JOB');
    t.match(r.message, why);
  }
  const etc = await submit([FAKE_CC, '0', '-c', 'a.c'], { cwd: '/etc' });
  t.equal(etc.outcome, 'OUTCOME_REJECTED');
  t.match(etc.message, /not relative to the mount/);
  t.notOk(existsSync(path.join(outside, 'canary')), 'the canary outside the mount was never written');
  t.notOk(existsSync(path.join(outside, 'x.o')));
  t.notOk(existsSync(path.resolve(mount, '..', 'escape.o')));
});

t.test('LD_PRELOAD and friends never reach a job', async (t) => {
  const r = await submit([PRINT_ENV, '-c', 'x.c'], { env: { LD_PRELOAD: '/tmp/evil.so', LD_LIBRARY_PATH: '/tmp', LANG: 'C.UTF-8', NODE_OPTIONS: '--require=/tmp/x.js' } });
  t.equal(r.outcome, 'OUTCOME_COMPLETED');
  const env = Buffer.from(r.stdout).toString();
  // (tap instruments every process it starts, so its own NODE_OPTIONS may appear; the job's must not.)
  t.notMatch(env, /LD_PRELOAD|LD_LIBRARY_PATH|\/tmp\/x\.js/);
  t.match(env, /^LANG=C\.UTF-8$/m, 'allowlisted variables do');
});

t.test('captured output is capped and truncated with a note, not fatal', async (t) => {
  const r = await submit([LOUD_CC, '100000', '-c', 'x.c']);
  t.equal(r.outcome, 'OUTCOME_COMPLETED');
  t.equal(r.exitCode, 0);
  t.equal(r.stdout.length, 4096, 'stdout cut at the cap');
  t.equal(r.outputTruncated, true);
  t.match(Buffer.from(r.stderr).toString(), /output truncated: each of stdout and stderr is capped at 4096 bytes/);
});

t.test('a worker refuses to run as root without --allow-root', { skip: process.getuid?.() !== 0 && 'not root' }, async (t) => {
  const { execa } = await import('execa');
  const { BIN } = await import('./helpers/farm.js');
  const r = await execa(process.execPath, [BIN, '--worker', `--server-addr=${farm.addr}`, `--fs-mount=${mount}`], { reject: false });
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /refusing to run a worker as root.*--allow-root/);
});

t.test('the worker goes on serving good jobs', async (t) => {
  const r = await submit([FAKE_CC, '0', '-c', 'a.c', '-o', 'sub/a.o']);
  t.equal(r.outcome, 'OUTCOME_COMPLETED');
  t.equal(r.exitCode, 0);
  const s = await farm.status();
  t.equal(s.workers[0]?.circuit, 'closed', 'refusals are not held against the worker');
});
