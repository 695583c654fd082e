// `distbuild shell` in a real terminal (tmux): lists the workers and a finished job, completes with Tab, exits cleanly; and the same verbs as subcommands.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { childEnv, launcherExe, startFarm } from './helpers/farm.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-shell-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const farm = await startFarm({ workers: [{ name: 'shell-w1', mount }] });
t.teardown(() => farm.stop());
const env = childEnv();

// One finished job to look at.
writeFileSync(path.join(mount, 'hello.c'), 'int hello(void) { return 42; }\n');
const job = await execa(launcherExe(), [...farm.launcherArgs(mount).slice(1), '--verbose', '--compiler', '--', 'gcc', '-c', 'hello.c', '-o', 'hello.o'], { cwd: mount, env, reject: false });
t.match(job.stderr, /\[remote shell-w1 /, 'a job ran on the worker');
const server = `--server-addr=${farm.addr}`;

t.test('the verbs as subcommands, text and --json', async (t) => {
  const workers = await execa(launcherExe(), ['workers', 'list', server], { env });
  t.match(workers.stdout, /^WORKER\s+ADDRESS\s+STATE/m, 'a table of workers');
  t.match(workers.stdout, /shell-w1\s+\S+\s+running/, 'the worker, running');
  const jobs = JSON.parse((await execa(launcherExe(), ['jobs', 'list', '--json', server], { env })).stdout) as { finished: { jobId: string; summary: string; outcome: string }[] };
  const hello = jobs.finished.find((j) => j.summary === 'hello.c');
  t.equal(hello?.outcome, 'succeeded', 'jobs list --json has the finished job');
  const status = await execa(launcherExe(), ['job', 'status', (hello?.jobId ?? '').slice(0, 12), server], { env });
  t.match(status.stdout, /compile hello\.c, from \S+\n\s+succeeded with exit code 0 on shell-w1/, 'job status finds it by the start of its id');
  const missing = await execa(launcherExe(), ['job', 'status', 'no-such-job', server], { env, reject: false });
  t.equal(missing.exitCode, 1, 'an unknown job is an error');
  t.match(missing.stderr, /no job no-such-job among the 0 running and the \d+ last finished/, 'that names the job');
  const scheduler = await execa(launcherExe(), ['scheduler', 'status', server], { env });
  t.match(scheduler.stdout, /^server running, version/m, 'scheduler status');
  const unknown = await execa(launcherExe(), ['workers', 'frobnicate', server], { env, reject: false });
  t.equal(unknown.exitCode, 2);
  t.match(unknown.stderr, /unknown command "workers frobnicate"; the commands: workers list, clients list, jobs list/, 'an unknown verb lists the known ones');
});

t.test('distbuild shell in tmux: workers, a finished job, Tab completion, exit', async (t) => {
  const socket = `distbuild-test-${process.pid}`;
  const tmux = (...args: string[]) => execa('tmux', ['-L', socket, ...args], { env });
  t.teardown(() => execa('tmux', ['-L', socket, 'kill-server'], { reject: false }));
  const history = mkdtempSync(path.join(os.tmpdir(), 'distbuild-shell-state-'));
  t.teardown(() => rmSync(history, { recursive: true, force: true }));
  const command = [launcherExe(), 'shell', server].map((a) => `'${a}'`).join(' ');
  await tmux('new-session', '-d', '-s', 'db', '-x', '200', '-y', '50', '-e', `XDG_STATE_HOME=${history}`, `${command}; echo "shell exited $?"; sleep 30`);
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'db', '-S', '-200')).stdout;
  /** Waits (10 s at most) for the screen to match. */
  const until = async (re: RegExp, what: string): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const s = await screen();
      if (re.test(s) || Date.now() > deadline) {
        t.match(s, re, what);
        return s;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await until(/^distbuild>\s*$/m, 'the prompt');
  await tmux('send-keys', '-t', 'db', 'workers list', 'Enter');
  await until(/shell-w1\s+\S+\s+running/, 'workers list shows the worker');
  await tmux('send-keys', '-t', 'db', 'jobs list', 'Enter');
  const jobs = await until(/succeeded\s+shell-w1\s+[\d.]+s\s+hello\.c/, 'jobs list shows the finished job');
  const id = /^(\S+)\s+compile\s+succeeded\s+shell-w1\s+[\d.]+s\s+hello\.c/m.exec(jobs)?.[1] ?? '';
  await tmux('send-keys', '-t', 'db', 'job st', 'Tab');
  await until(/distbuild> job status\s*$/m, 'Tab completes "job st" to "job status"');
  await tmux('send-keys', '-t', 'db', ` ${id}`, 'Enter');
  await until(/succeeded with exit code 0 on shell-w1/, 'job status shows the job');
  await tmux('send-keys', '-t', 'db', 'exit', 'Enter');
  await until(/bye\s+shell exited 0/, 'exit leaves the shell with status 0');
});
