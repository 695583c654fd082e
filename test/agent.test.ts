// Batching and the agent: N jobs give N results as each finishes; lone jobs are not held; agents may die.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createChannel, createClient } from 'nice-grpc';
import t from 'tap';
import type { Job } from '../src/protocol/messages.js';
import { schedulerDefinition } from '../src/protocol/scheduler-service.js';
import { ROOT, farmLogs, launcherExe, startFarm } from './helpers/farm.js';

const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-agent-test-'));
const work = path.join(mount, 'w');
mkdirSync(work);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

const farm = await startFarm({ workers: [{ name: 'w1', mount, maxJobs: 6 }, { name: 'w2', mount, maxJobs: 6 }] });
t.teardown(() => farm.stop());

t.test('a batch of N jobs returns N results, each as soon as it finishes', async (t) => {
  const channel = createChannel(farm.addr);
  t.teardown(() => channel.close());
  const client = createClient(schedulerDefinition(), channel);
  const sleeps = [1.6, 0.1, 0.6, 0.2, 0.7, 0.3]; // wide gaps at both ends: the order holds on a loaded machine
  const jobs: Job[] = sleeps.map((s, i) => ({
    id: `batch-${i}-${Date.now()}`, kind: 'JOB_KIND_COMPILE', argv: [FAKE_CC, String(s), '-c', `b${i}.c`, '-o', `b${i}.o`],
    cwd: 'w', clientMount: mount, env: {}, dirs: ['w'], timeoutMs: 0, client: 'test', outputs: [], compiler: '', cacheStore: false,
  }));
  const order: string[] = [];
  let accepted: string[] = [];
  for await (const m of client.submitJobs({ jobs, protocolVersion: 'PROTOCOL_VERSION_1' })) {
    if (m.msg === 'accepted') accepted = m.accepted.jobIds;
    else order.push(m.result.jobId);
  }
  t.same(accepted, jobs.map((j) => j.id), 'accepted first, all of them');
  t.same([...order].sort(), jobs.map((j) => j.id).sort(), 'one result per job');
  t.equal(order[0], jobs[1]?.id, 'the shortest job came back first, not the first submitted');
  t.equal(order.at(-1), jobs[0]?.id, 'the longest came back last');
});

const launch = (socket: string, extra: string[], name: string) =>
  execa(launcherExe(), [...farm.launcherArgs(mount, extra).slice(1).map((a) => a.replace(farm.agentSocket, socket)), '--verbose', '--compiler', '--', FAKE_CC, '0.5', '-c', `${name}.c`, '-o', `${name}.o`], {
    cwd: work,
    reject: false,
  });

t.test('a lone job is sent at once, whatever the batch timeout', async (t) => {
  const socket = path.join(mount, 'agent-lone', 'agent.sock');
  const started = Date.now();
  const got = await launch(socket, ['--batch-timeout=60s', '--batch-size=100'], 'lone');
  t.equal(got.exitCode, 0);
  t.match(got.stderr, /\[remote w\d/);
  t.ok(Date.now() - started < 30_000, 'it did not wait for the 60 s batch timeout');
  process.kill(Number(readFileSync(path.join(mount, 'agent-lone', 'agent.pid'), 'utf8')), 'SIGTERM');
});

t.test('killing the agent mid-build fails no launcher, and runs no job twice', async (t) => {
  const socket = path.join(mount, 'agent-kill', 'agent.sock');
  const pidFile = path.join(mount, 'agent-kill', 'agent.pid');
  const before = await farm.status();
  // Start the agent with one job, then fire eight more and kill it while they run.
  t.equal((await launch(socket, [], 'warmup')).exitCode, 0);
  const firstAgent = Number(readFileSync(pidFile, 'utf8'));
  const names = Array.from({ length: 8 }, (_, i) => `k${i}`);
  const running = names.map((n) => launch(socket, [], n));
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      void farm.status().then((s) => {
        if (s.running.length >= 4) {
          clearInterval(check);
          resolve();
        }
      });
    }, 50);
  });
  process.kill(firstAgent, 'SIGKILL');
  const results = await Promise.all(running);
  for (const [i, r] of results.entries()) {
    t.equal(r.exitCode, 0, `${names[i]} succeeded`);
    t.match(r.stderr, /\[remote w\d/, `${names[i]} ran on the farm`);
    t.equal(readFileSync(path.join(work, `${names[i]}.o`), 'utf8'), 'fake object\n');
  }
  const after = await farm.status();
  t.equal(after.totals.submitted - before.totals.submitted, 9, 'resubmissions attached to their jobs: nine jobs in all');
  const secondAgent = Number(readFileSync(pidFile, 'utf8'));
  t.not(secondAgent, firstAgent, 'a new agent took over');
  process.kill(secondAgent, 'SIGTERM');
  if (t.passing() === false) t.comment(farmLogs(farm));
});

writeFileSync(path.join(work, 'placeholder.c'), '');
