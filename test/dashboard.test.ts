// The web dashboard in headless Chromium during a real build: both workers shown, completed jobs grow live.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { browserMissing, openBrowser } from './helpers/browser.js';
import { configure, copySample } from './helpers/cmake.js';
import { ROOT, farmLogs, startFarm } from './helpers/farm.js';

const ARTEFACTS = path.join(ROOT, 'test-artifacts');

t.test('the dashboard shows the workers and a completed-jobs count that grows during a build', { skip: browserMissing() }, async (t) => {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-dashboard-'));
  t.teardown(() => rmSync(mount, { recursive: true, force: true }));
  copySample(path.join(mount, 'src'));
  const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }], serverArgs: ['--http-port=0'] });
  t.teardown(() => farm.stop());
  const line = (farm.logs.get('server') ?? []).join('').split('\n').find((l) => /dashboard on http/.test(l)) ?? '';
  const url = /(http:\/\/\S+\/)$/.exec(line)?.[1] ?? '';
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the server prints the dashboard URL, on localhost');

  const browser = await openBrowser();
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const completed = async (): Promise<number> => Number(await page.textContent('#completed'));
  /** Waits (in the page, without polling from here) until the completed count satisfies `test`, e.g. ">= 5". */
  const completedIs = (test: string, timeout = 30_000) =>
    page.waitForFunction(`Number(document.getElementById('completed').textContent) ${test}`, undefined, { timeout });
  await page.goto(url);
  await page.waitForFunction(`document.querySelectorAll('#worker-rows tr[data-worker]').length === 2`);
  const names = await page.$$eval('#worker-rows th[scope="row"]', (cells) => cells.map((c) => c.textContent ?? ''));
  t.same(names.sort(), ['w1', 'w2'], 'both workers are listed');
  const cells = await page.$$eval('#worker-rows tr[data-worker="w1"] td', (tds) => tds.map((c) => c.textContent ?? ''));
  t.match(cells[0], /^127\.0\.0\.1:\d+$/, 'with their address');
  t.equal(cells[1], 'running', 'state');
  t.match(cells[2], /^0 \/ 1/, 'slots used / max');
  t.equal(cells[3], 'yes', 'link-capable');
  t.equal(cells[4], 'closed', 'circuit');

  await configure(path.join(mount, 'src'), path.join(mount, 'build'), 'Ninja', farm.launcherArgs(mount));
  const before = await completed();
  const building = execa('ninja', ['-C', path.join(mount, 'build'), '-j2'], { reject: false });
  // Live: the count grows while the build runs, without reloading the page.
  await completedIs(`>= ${before + 5}`, 120_000);
  const during = await completed();
  t.ok(during >= before + 5, `completed grew from ${before} to ${during} during the build`);
  t.equal((await building).exitCode, 0, 'the build succeeds');

  const status = await farm.status();
  const total = status.totals.succeeded + status.totals.compileErrors + status.totals.failed;
  await completedIs(`=== ${total}`, 10_000);
  t.equal(await completed(), total, `and ends at the server's total of ${total}`);
  t.ok(total > during, 'it kept growing after the first reading');
  const done = await page.$$eval('#worker-rows tr[data-worker] td:nth-of-type(6)', (tds) => tds.map((c) => Number(c.textContent)));
  t.equal(done.reduce((a, b) => a + b, 0), total, "the workers' done counts add up to the total");
  await page.waitForFunction(`document.getElementById('sparkline-line').getAttribute('points') !== ''`);
  t.match(await page.textContent('#throughput-caption'), /Completed jobs per second .*peak [1-9]/, 'the throughput line has points, and a peak above zero');
  t.match(await page.textContent('#locality'), /^\d+% of \d+$/, 'the locality hit rate is shown');
  t.equal(await page.getAttribute('#counters', 'aria-live'), 'polite', 'counters are announced to screen readers');
  t.ok(Number(await page.getAttribute('body', 'data-updates')) > 2, 'updates arrived as events, on one page load');

  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard.png'), fullPage: true });
  if (t.passing() === false) t.comment(farmLogs(farm));
});
