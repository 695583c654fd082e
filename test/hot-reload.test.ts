// Hot reload: a worker's max_jobs and compiler_allowlist and the server's tokens follow their files without a restart.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { BIN, ROOT, launcherExe, startFarm, waitForLine } from './helpers/farm.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-reload-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('max_jobs follows the worker TOML file without a restart', async (t) => {
  const config = path.join(dir, 'worker.toml');
  writeFileSync(config, 'max_jobs = 2\nlog_level = "debug"\n');
  const farm = await startFarm({ workers: [{ name: 'w1', mount: dir, maxJobs: 0, args: [`--config=${config}`] }] });
  t.teardown(() => farm.stop());
  t.equal((await farm.status()).workers[0]?.maxJobs, 2, 'read from the file at start');
  const changed = Date.now();
  writeFileSync(config, 'max_jobs = 5\nlog_level = "debug"\n');
  let seen = 0;
  while (Date.now() - changed < 2000) {
    seen = (await farm.status()).workers[0]?.maxJobs ?? 0;
    if (seen === 5) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  t.equal(seen, 5, `--status shows max_jobs = 5 within 2 s (after ${Date.now() - changed} ms)`);
  writeFileSync(config, 'max_jobz = 7\n');
  const broken = (farm.logs.get('w1') ?? []);
  for (let i = 0; i < 80 && !broken.join('').includes('not reloading'); i++) await new Promise((r) => setTimeout(r, 25));
  t.match(broken.join(''), /not reloading: .*unknown key "max_jobz"/, 'a broken file is refused, with its error');
  t.equal((await farm.status()).workers[0]?.maxJobs, 5, 'and the running settings stay');
});

t.test('compiler_allowlist follows the worker TOML file: refused, then allowed after the edit', async (t) => {
  const mount = path.join(dir, 'allow');
  const work = path.join(mount, 'w');
  mkdirSync(work, { recursive: true });
  const config = path.join(dir, 'allow.toml');
  writeFileSync(config, 'compiler_allowlist = ["gcc"]\n');
  const farm = await startFarm({ workers: [{ name: 'w1', mount, allowlistFlag: false, args: [`--config=${config}`] }] });
  t.teardown(() => farm.stop());
  const compile = () => execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--no-fallback', '--compiler', '--', FAKE_CC, '0', '-c', 'a.c', '-o', 'a.o'], { cwd: work, reject: false });
  const refused = await compile();
  t.equal(refused.exitCode, 1, 'not allowlisted: refused');
  t.match(refused.stderr, /refused to run this job: .*fake-cc\.sh.* is not on this worker's allowlist \(setting compiler_allowlist\)/);
  const worker = farm.workers.get('w1');
  if (worker === undefined) throw new Error('no worker w1');
  const reloaded = waitForLine(worker, /reloaded /, 'worker w1');
  writeFileSync(config, `compiler_allowlist = ["gcc", ${JSON.stringify(FAKE_CC)}]\n`);
  await reloaded;
  const allowed = await compile();
  t.equal(allowed.exitCode, 0, 'allowlisted after the edit, without a restart');
  t.match(allowed.stdout, /fake-cc done/);
  const kept = waitForLine(worker, /not reloading/, 'worker w1');
  writeFileSync(config, 'compiler_allowlist = "not a list\n');
  t.match(await kept, /invalid TOML/, 'a broken file is refused, with its error');
  t.equal((await compile()).exitCode, 0, 'and the running allowlist stays');
});

t.test("the server's token_file is reloaded: a new token accepted, the old one refused", async (t) => {
  const tokens = path.join(dir, 'tokens');
  writeFileSync(tokens, 'old-token\n');
  const farm = await startFarm({ workers: [], serverArgs: [`--token-file=${tokens}`] });
  t.teardown(() => farm.stop());
  const status = (token: string) =>
    execa(process.execPath, [BIN, '--status', `--server-addr=${farm.addr}`], { env: { ...process.env, DISTBUILD_TOKEN: token }, reject: false });
  t.equal((await status('old-token')).exitCode, 0, 'the first token works');
  t.match((await status('new-token')).stderr, /UNAUTHENTICATED/, 'the next one not yet');
  const reloaded = waitForLine(farm.server, /reloaded /, 'the server');
  writeFileSync(tokens, 'new-token\n');
  await reloaded;
  t.equal((await status('new-token')).exitCode, 0, 'after rotation the new token is accepted');
  const old = await status('old-token');
  t.equal(old.exitCode, 1);
  t.match(old.stderr, /UNAUTHENTICATED: the token is not one this server accepts/, 'and the old one refused');
  const kept = waitForLine(farm.server, /not reloading/, 'the server');
  writeFileSync(tokens, '# emptied by mistake\n');
  t.match(await kept, /token_file .* holds no token/, 'an empty token file is refused, with its error');
  t.equal((await status('new-token')).exitCode, 0, 'and the running tokens stay');
});
