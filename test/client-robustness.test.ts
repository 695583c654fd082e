// Clients never hang and leave nothing behind: Ctrl-C cancels the remote job, a stuck agent is given up on, a foreign socket directory is refused.
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { errnoCode } from '../src/common/errno.js';
import { BIN, LAUNCHER_KIND, ROOT, childEnv, farmLogs, launcherExe, startFarm, type LauncherKind } from './helpers/farm.js';

const HANG_CC = path.join(ROOT, 'test', 'fixtures', 'hang-cc.sh');
const STALL_CC = path.join(ROOT, 'test', 'fixtures', 'stall-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-robust-'));
const work = path.join(mount, 'w');
mkdirSync(work);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 2 }] });
t.teardown(() => farm.stop());

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return false;
    throw err;
  }
};

/** Resolves when `check` holds, polling; rejects after `ms` with `what`. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

t.test('Ctrl-C on ninja: the agent cancels the remote job and the worker kills its whole process group', async (t) => {
  const dir = path.join(work, 'ctrl-c');
  mkdirSync(dir);
  const pids = path.join(dir, 'pids');
  const [exe = '', ...flags] = farm.launcherArgs(mount);
  writeFileSync(path.join(dir, 'build.ninja'), [
    'rule cc',
    `  command = ${exe} --compiler ${flags.join(' ')} -- ${HANG_CC} ${pids} -c $in -o $out`,
    'build a.o: cc a.c',
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'a.c'), '');
  // ninja in its own process group, as a terminal runs it; Ctrl-C is SIGINT to that group.
  const ninja = execa('ninja', ['-C', dir], { detached: true, reject: false, all: true, env: childEnv(), extendEnv: false });
  await until(() => existsSync(pids), 20_000, 'the compiler to start on the worker');
  const [compiler = 0, child = 0] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
  t.ok(alive(compiler) && alive(child), 'the compiler and its child run');
  process.kill(-(ninja.pid ?? 0), 'SIGINT');
  const done = await ninja;
  t.not(done.exitCode, 0, 'ninja stopped without success');
  await until(() => !alive(compiler) && !alive(child), 10_000, 'the compiler and its child to be killed');
  t.pass('the compiler and its child are gone');
  await until(async () => (await farm.status()).running.length === 0, 10_000, 'the farm to run nothing');
  t.equal((await farm.status()).totals.failed, 1, 'the job ended, cancelled');
  t.match(farmLogs(farm), /cancelled by its client/, 'the server says why');
  t.notOk(existsSync(path.join(dir, 'a.o')), 'no output was published');
});

for (const kind of ['native', 'node'] satisfies LauncherKind[]) {
  if (kind === 'native' && LAUNCHER_KIND !== 'native') continue;
  t.test(`${kind}: a client whose agent stops answering gives up within 10 s and builds locally`, async (t) => {
    const socketDir = path.join(mount, `stuck-${kind}`);
    const stall = path.join(work, `stall-${kind}`);
    writeFileSync(stall, '');
    const client = execa(launcherExe(kind), [
      '--compiler', `--server-addr=${farm.addr}`, `--fs-mount=${mount}`, `--agent-socket=${path.join(socketDir, 'agent.sock')}`, '--verbose',
      '--', STALL_CC, stall, '-c', 'x.c', '-o', `stuck-${kind}.o`,
    ], { cwd: work, reject: false, env: childEnv(), extendEnv: false });
    await until(async () => (await farm.status()).running.some((j) => j.summary.includes(`stuck-${kind}`) || j.summary.includes('x.c')), 20_000, 'the job to run');
    const agent = Number(readFileSync(path.join(socketDir, 'agent.pid'), 'utf8'));
    process.kill(agent, 'SIGSTOP');
    t.teardown(() => {
      process.kill(agent, 'SIGCONT');
      process.kill(agent, 'SIGTERM');
    });
    rmSync(stall); // the remote run ends; the stopped agent cannot say so
    const started = Date.now();
    const r = await client;
    t.equal(r.exitCode, 0, r.stderr);
    t.match(r.stderr, /the distbuild agent sent nothing for 10 s; it may be stuck .*building locally/);
    t.ok(Date.now() - started < 20_000, 'within the deadline');
    t.equal(readFileSync(path.join(work, `stuck-${kind}.o`), 'utf8'), 'fake object\n', 'built here');
  });

  t.test(`${kind}: a socket directory that is not the user's own with mode 0700 is refused, by the client and by the agent`, async (t) => {
    const open = path.join(mount, `open-${kind}`);
    mkdirSync(open, { mode: 0o755 });
    const cases: Array<readonly [string, RegExp]> = [[open, /has mode 0755/]];
    if (process.getuid?.() === 0) {
      // Another user's directory (only root can make one here).
      const foreign = path.join(mount, `foreign-${kind}`);
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 65534, 65534);
      cases.push([foreign, /belongs to uid 65534, not 0/]);
    }
    for (const [dir, why] of cases) {
      const r = await execa(launcherExe(kind), ['--compiler', `--agent-socket=${path.join(dir, 'agent.sock')}`, '--', 'sh', '-c', 'echo ran here'],
        { cwd: work, reject: false, env: childEnv(), extendEnv: false });
      t.equal(r.exitCode, 0);
      t.equal(r.stdout, 'ran here');
      t.match(r.stderr, /refusing the agent socket's directory/);
      t.match(r.stderr, why);
      t.notOk(existsSync(path.join(dir, 'agent.sock')), 'no agent was started there');
    }
    const agent = await execa(process.execPath, [BIN, '--agent', `--agent-socket=${path.join(open, 'agent.sock')}`], { reject: false, env: childEnv(), extendEnv: false });
    t.equal(agent.exitCode, 2);
    t.match(agent.stderr, /the agent socket's directory .* has mode 0755; it must be yours with mode 0700/);
  });
}
