// Hot reload: a change to max_jobs in a worker's TOML file shows in --status within 2 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startFarm } from './helpers/farm.js';

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
