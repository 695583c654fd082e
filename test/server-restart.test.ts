// SIGKILL the server mid-build and start it again: the build completes, byte-identical.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { artefacts, configure, copySample, differences } from './helpers/cmake.js';
import { farmLogs, startFarm } from './helpers/farm.js';

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-restart-'));
const src = path.join(mount, 'src');
const buildDir = path.join(mount, 'build');
copySample(src);
t.teardown(() => rmSync(mount, { recursive: true, force: true }));

t.test('the build survives a server restart', async (t) => {
  await configure(src, buildDir, 'Ninja', undefined);
  await execa('ninja', ['-C', buildDir]);
  renameSync(buildDir, path.join(mount, 'plain'));

  const farm = await startFarm({ workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
  t.teardown(() => farm.stop());
  await configure(src, buildDir, 'Ninja', farm.launcherArgs(mount));
  const building = execa('ninja', ['-C', buildDir, '-j4'], { all: true, reject: false });
  for (;;) {
    const s = await farm.status();
    if (s.totals.succeeded >= 6) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const killed = new Promise((r) => farm.server.once('exit', r));
  farm.server.kill('SIGKILL');
  await killed;
  await farm.restartServer();
  const result = await building;
  t.equal(result.exitCode, 0, 'the build completed');
  const files = artefacts(path.join(mount, 'plain'));
  t.same(differences(path.join(mount, 'plain'), buildDir, files), [], 'byte-identical to the plain build');
  const status = await farm.status();
  t.equal(status.workers.length, 2, 'both workers registered again with the new server');
  t.ok(status.totals.succeeded > 0, 'the new server ran the rest of the build');
  t.notMatch(result.all, /\[local:/, 'no job fell back to a local build');
  if (t.passing() === false) t.comment(`${result.all}\n${farmLogs(farm)}`);
});
