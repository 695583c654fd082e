// Token authentication: no token, a wrong token or a fake worker gets nothing; the right token works.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { BIN, ROOT, launcherExe, startFarm, waitForLine } from './helpers/farm.js';

const TOKEN = 'correct horse battery staple';
const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-auth-'));
const work = path.join(mount, 'w');
mkdirSync(work);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const farm = await startFarm({ workers: [{ name: 'good', mount }], env: { DISTBUILD_TOKEN: TOKEN } });
t.teardown(() => farm.stop());

const noToken = { ...process.env, DISTBUILD_TOKEN: '' };
const status = (env: NodeJS.ProcessEnv) => execa(process.execPath, [BIN, '--status', `--server-addr=${farm.addr}`], { env, reject: false });

t.test('status needs the token', async (t) => {
  const none = await status(noToken);
  t.equal(none.exitCode, 1);
  t.match(none.stderr, /UNAUTHENTICATED: no token: set DISTBUILD_TOKEN/);
  const wrong = await status({ ...process.env, DISTBUILD_TOKEN: 'guess' });
  t.match(wrong.stderr, /UNAUTHENTICATED: the token is not one this server accepts/);
  const right = await status({ ...process.env, DISTBUILD_TOKEN: TOKEN });
  t.equal(right.exitCode, 0);
  t.match(right.stdout, /good/);
  const file = path.join(mount, 'tokens');
  writeFileSync(file, `# farm tokens\n${TOKEN}\n`);
  const viaFile = await execa(process.execPath, [BIN, '--status', `--server-addr=${farm.addr}`, `--token-file=${file}`], { env: noToken, reject: false });
  t.equal(viaFile.exitCode, 0, 'token_file works too');
});

t.test('a fake worker without the token is refused and never gets a job', async (t) => {
  const fake = spawn(process.execPath, [BIN, '--worker', `--server-addr=${farm.addr}`, `--fs-mount=${mount}`, '--name=fake', '--max-jobs=4', '--allow-root'], {
    env: noToken,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => fake.kill('SIGKILL'));
  await waitForLine(fake, /UNAUTHENTICATED/, 'the fake worker');
  const s = await farm.status();
  t.same(s.workers.map((w) => w.name), ['good'], 'only the real worker is registered');
});

t.test('launchers: with the token the job runs remotely; without it, it does not', async (t) => {
  const launch = (socket: string, env: NodeJS.ProcessEnv, extra: string[] = []) =>
    execa(launcherExe(), ['--compiler', `--server-addr=${farm.addr}`, `--fs-mount=${mount}`, `--agent-socket=${path.join(mount, socket, 'agent.sock')}`, '--verbose', ...extra,
      '--', FAKE_CC, '0', '-c', 'a.c', '-o', 'a.o'], { cwd: work, env, reject: false });
  const ok = await launch('a1', { ...process.env, DISTBUILD_TOKEN: TOKEN });
  t.equal(ok.exitCode, 0);
  t.match(ok.stderr, /\[remote good /);
  const refused = await launch('a2', noToken, ['--no-fallback']);
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /UNAUTHENTICATED: no token/);
  for (const socket of ['a1', 'a2']) {
    try {
      process.kill(Number(readFileSync(path.join(mount, socket, 'agent.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // not started
    }
  }
});

t.test('a token is never taken from the command line', async (t) => {
  const server = await execa(process.execPath, [BIN, '--server', '--token=secret'], { reject: false });
  t.equal(server.exitCode, 2);
  t.match(server.stderr, /--token is not accepted on the command line, where ps would show it/);
  const launcher = await execa(launcherExe(), ['--compiler', '--token=secret', '--', 'cc', '-c', 'a.c'], { cwd: work, reject: false });
  t.equal(launcher.exitCode, 2);
  t.match(launcher.stderr, /is not accepted on the command line/);
});

t.test('the server refuses a non-loopback address without a token unless --insecure', async (t) => {
  const refused = await execa(process.execPath, [BIN, '--server', '--listen=0.0.0.0:0'], { env: noToken, reject: false });
  t.equal(refused.exitCode, 2);
  t.match(refused.stderr, /refusing to listen on 0\.0\.0\.0:0 without authentication/);
  const insecure = spawn(process.execPath, [BIN, '--server', '--listen=0.0.0.0:0', '--insecure', '--no-mdns'], { env: noToken, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => insecure.kill('SIGKILL'));
  t.match(await waitForLine(insecure, /WITHOUT authentication/, 'the insecure server'), /--insecure/);
});

t.test('roles: with worker tokens, a client token cannot register a worker and a worker token cannot submit', async (t) => {
  const WORKER_TOKEN = 'worker-only secret';
  const roles = await startFarm({ workers: [], env: { DISTBUILD_TOKEN: TOKEN, DISTBUILD_WORKER_TOKEN: WORKER_TOKEN } });
  t.teardown(() => roles.stop());
  const worker = await roles.startWorker({ name: 'real', mount });
  t.ok(worker.pid, 'a worker holding the worker token registers');
  // The same worker program, holding only the client token.
  const clientAsWorker = spawn(process.execPath, [BIN, '--worker', `--server-addr=${roles.addr}`, `--fs-mount=${mount}`, '--name=impostor', '--allow-root'], {
    env: { ...process.env, DISTBUILD_TOKEN: TOKEN, DISTBUILD_WORKER_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => clientAsWorker.kill('SIGKILL'));
  t.match(await waitForLine(clientAsWorker, /PERMISSION_DENIED/, 'the impostor worker'), /a client's token cannot register a worker: give workers a worker token \(setting worker_token \/ worker_token_file\)/);
  t.same((await roles.status()).workers.map((w) => w.name), ['real'], 'only the worker with the worker token is registered');
  const asClient = await execa(process.execPath, [BIN, '--status', `--server-addr=${roles.addr}`], { env: { ...process.env, DISTBUILD_TOKEN: WORKER_TOKEN }, reject: false });
  t.equal(asClient.exitCode, 1);
  t.match(asClient.stderr, /PERMISSION_DENIED: a worker token cannot be used as a client's/);
  const launched = await execa(launcherExe(), ['--compiler', `--server-addr=${roles.addr}`, `--fs-mount=${mount}`, `--agent-socket=${path.join(mount, 'roles', 'agent.sock')}`, '--verbose',
    '--', FAKE_CC, '0', '-c', 'a.c', '-o', 'roles.o'], { cwd: work, env: { ...process.env, DISTBUILD_TOKEN: TOKEN }, reject: false });
  t.equal(launched.exitCode, 0, 'clients build with the client token');
  t.match(launched.stderr, /\[remote real /);
  try {
    process.kill(Number(readFileSync(path.join(mount, 'roles', 'agent.pid'), 'utf8')), 'SIGTERM');
  } catch (err) {
    t.comment(`no agent to stop: ${String(err)}`);
  }
});
