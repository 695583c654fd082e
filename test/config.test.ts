// Settings: flags > env > TOML file > defaults; unknown keys and bad values are named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { envSource, fileSource, flagSource, readConfigFiles, resolveSettings } from '../src/config/resolve-settings.js';
import { parseDuration } from '../src/common/duration.js';
import { createLogger } from '../src/common/logger.js';
import { findServer } from '../src/discovery/find-server.js';
import type { OptionKey } from '../src/config/options.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('flags beat env, env beats the file, the file beats defaults', async (t) => {
  const file = await fileSource('x.toml', 'max_jobs = 3\nserver_addr = "file:1"\nfs_mount = "/from/file"\nlog_level = "warn"\n');
  const env = envSource({ DISTBUILD_MAX_JOBS: '5', DISTBUILD_SERVER_ADDR: 'env:2' });
  const flags = flagSource(new Map<OptionKey, unknown>([['maxJobs', '7']]));
  const s = resolveSettings([flags, env, file], {});
  t.equal(s.maxJobs, 7);
  t.equal(s.serverAddr, 'env:2');
  t.equal(s.fsMount, '/from/file');
  t.equal(s.logLevel, 'warn');
  t.equal(s.jobTimeoutMs, 600_000, 'defaults compiled to milliseconds');
  t.equal(resolveSettings([], {}).serverAddr, undefined, 'no server_addr anywhere: left for discovery');
});

t.test('without server_addr, clients look for the server and then try 127.0.0.1:50051', async (t) => {
  const logger = createLogger({ level: 'error', role: 'test' });
  t.equal(await findServer({ serverAddr: 'set:1', mdns: true, discoveryTimeoutMs: 100, sendsToken: false, tlsCa: undefined }, logger), 'set:1', 'a set address is used as it is');
  t.equal(await findServer({ serverAddr: undefined, mdns: false, discoveryTimeoutMs: 100, sendsToken: false, tlsCa: undefined }, logger), '127.0.0.1:50051', 'mdns = false: straight to the default');
  const s = resolveSettings([envSource({ DISTBUILD_MDNS: 'off', DISTBUILD_DISCOVERY_TIMEOUT: '300ms' })], {});
  t.equal(s.mdns, false);
  t.equal(s.discoveryTimeoutMs, 300);
});

t.test('an unknown key is an error that names it', async (t) => {
  await t.rejects(fileSource('/etc/x.toml', 'max_jobz = 3\n'), { name: 'ConfigError', message: /\/etc\/x\.toml: unknown key "max_jobz" \(did you mean "max_jobs"\?\)/ });
  await t.rejects(fileSource('/etc/x.toml', 'max_jobs = \n'), { name: 'ConfigError', message: /invalid TOML/ });
});

t.test('bad values name the setting, where it came from, and what is expected', async (t) => {
  const bad = (sources: Parameters<typeof resolveSettings>[0]) => () => resolveSettings(sources, {});
  t.throws(bad([envSource({ DISTBUILD_MAX_JOBS: 'many' })]), { name: 'ConfigError', key: 'maxJobs', message: 'DISTBUILD_MAX_JOBS: "many" is not an integer' });
  t.throws(bad([flagSource(new Map([['jobTimeout', '30']]))]), { message: /--job-timeout: "30" is not a duration with a unit/ });
  t.throws(bad([await fileSource('f.toml', 'log_level = "loud"')]), { message: /f\.toml: log_level: "loud" is not one of error, warn, info, debug/ });
  t.throws(bad([flagSource(new Map([['maxJobs', '0']]))]), { message: /--max-jobs: "0" is not an integer >= 1/ });
});

t.test('--config reads exactly that file; a missing one is an error', async (t) => {
  const file = path.join(dir, 'd.toml');
  writeFileSync(file, 'disable_linking = true\nbatch_timeout = "20ms"\n');
  const s = resolveSettings(await readConfigFiles(file, {}), {});
  t.equal(s.disableLinking, true);
  t.equal(s.batchTimeoutMs, 20);
  await t.rejects(readConfigFiles(path.join(dir, 'missing.toml'), {}), { message: /cannot read config file/ });
  t.same(await readConfigFiles(undefined, { HOME: dir }), [], 'absent default files are fine');
});

t.test('durations', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1m30s'), 90_000);
  t.equal(parseDuration('2h'), 7_200_000);
  t.equal(parseDuration('0'), 0);
  t.equal(parseDuration('10'), undefined);
  t.equal(parseDuration('5 minutes'), undefined);
});
