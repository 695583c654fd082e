// A worker caps captured output, refuses to run as root, and goes on serving (hostile jobs: hostile.test.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ROOT, TEST_ALLOWLIST, startFarm } from './helpers/farm.js';
import { createJobSubmitter } from './helpers/submit-job.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const LOUD_CC = path.join(ROOT, 'test', 'fixtures', 'loud-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-confine-'));
mkdirSync(path.join(mount, 'w', 'sub'), { recursive: true });
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const farm = await startFarm({ workers: [{ name: 'w1', mount, args: [`--compiler-allowlist=${[...TEST_ALLOWLIST, LOUD_CC].join(',')}`, '--max-output-bytes=4096'] }] });
t.teardown(() => farm.stop());
const jobs = createJobSubmitter(farm.addr, mount);
t.teardown(() => jobs.close());
const submit = jobs.submit;

// The hostile jobs themselves (escapes, allowlist, flags, loader env…) are test/hostile.test.ts.
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
