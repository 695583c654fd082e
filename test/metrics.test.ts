// Prometheus /metrics on the server and the workers, scraped during a real build.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { configure, copySample } from './helpers/cmake.js';
import { startFarm, type Farm } from './helpers/farm.js';

type Samples = Map<string, number>;

/** Parses the text exposition format into "name{labels}" → value. */
function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const sum = (s: Samples, name: string, filter = ''): number =>
  [...s].filter(([k]) => (k === name || k.startsWith(`${name}{`)) && k.includes(filter)).reduce((a, [, v]) => a + v, 0);

function metricsUrl(farm: Farm, name: string): string {
  const line = (farm.logs.get(name) ?? []).join('').split('\n').find((l) => /metrics on http/.test(l)) ?? '';
  return /(http:\/\/\S+\/metrics)/.exec(line)?.[1] ?? '';
}

const scrape = async (url: string): Promise<Samples> => parse(await (await fetch(url)).text());

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-metrics-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
copySample(path.join(mount, 'src'));

t.test('the server and workers expose every series, with sane values, during and after a build', async (t) => {
  const farm = await startFarm({
    workers: [{ name: 'w1', mount, args: ['--http-port=0'] }, { name: 'w2', mount, args: ['--http-port=0'] }],
    serverArgs: ['--http-port=0'],
  });
  t.teardown(() => farm.stop());
  const server = metricsUrl(farm, 'server');
  t.match(server, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  await configure(path.join(mount, 'src'), path.join(mount, 'build'), 'Ninja', farm.launcherArgs(mount));
  const building = execa('ninja', ['-C', path.join(mount, 'build'), '-j2'], { reject: false });
  for (;;) {
    if ((await farm.status()).totals.succeeded >= 5) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const during = await scrape(server);
  t.ok(sum(during, 'distbuild_jobs_total', 'outcome="success"') >= 5, 'jobs counted while the build runs');
  t.equal(during.get('distbuild_workers{state="running"}'), 2, 'both workers running');
  t.equal(during.get('distbuild_worker_circuit_state{state="closed"}'), 2, 'both circuits closed');
  t.equal((await building).exitCode, 0);

  const after = await scrape(server);
  const status = await farm.status();
  t.equal(sum(after, 'distbuild_jobs_total'), status.totals.submitted, 'every job counted once');
  t.equal(after.get('distbuild_jobs_total{kind="link",outcome="success"}'), status.totals.links);
  for (const h of ['distbuild_job_queue_wait_seconds', 'distbuild_job_execution_seconds', 'distbuild_job_duration_seconds']) {
    t.equal(sum(after, `${h}_count`), status.totals.succeeded, `${h} observed every completed job`);
    t.ok(sum(after, `${h}_sum`) >= 0, `${h} has a sum`);
  }
  t.ok(sum(after, 'distbuild_job_execution_seconds_sum') > 0.1, 'compiles took measurable time');
  t.equal(sum(after, 'distbuild_locality_hits_total') + sum(after, 'distbuild_locality_misses_total'), status.totals.submitted, 'every placement counted as a hit or a miss');
  t.equal(sum(after, 'distbuild_retries_total'), 0);
  t.equal(sum(after, 'distbuild_fallbacks_total'), 0);
  t.ok(after.has('distbuild_fallbacks_total{reason="queue_timeout"}'), 'fallback reasons are present at zero');
  t.equal(after.get('distbuild_jobs_queued'), 0);

  let attempts = 0;
  for (const name of ['w1', 'w2']) {
    const worker = await scrape(metricsUrl(farm, name));
    attempts += sum(worker, 'distbuild_worker_attempts_total');
    t.equal(worker.get('distbuild_worker_slots'), 1, `${name} reports its slots`);
    t.ok(worker.has('distbuild_worker_jobs_running'));
  }
  t.equal(attempts, status.totals.submitted, 'the workers ran every job once between them');
});
