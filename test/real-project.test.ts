// A real project from Debian's sources (c-ares), plain vs through a farm with mTLS and a token: byte-identical, all remote.
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import type { StatusReply } from '../src/protocol/messages.js';
import { artefacts, build, configure, differences, type Generator } from './helpers/cmake.js';
import { BIN, ROOT, clientTlsEnv, farmLogs, genCerts, startFarm } from './helpers/farm.js';

const PACKAGE = 'c-ares=1.18.1-3';
const OPTIONS = ['-DCARES_STATIC=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo'];

const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-real-'));
t.teardown(() => rmSync(mount, { recursive: true, force: true }));
const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), PACKAGE, mount]);
const src = fetched.stdout.trim().split('\n').at(-1) ?? '';
const buildDir = path.join(mount, 'build');

// Secure end to end: the server requires client certificates of the farm's CA and a token; the
// workers, the launchers' agent and --status present both.
const certDir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-real-certs-'));
t.teardown(() => rmSync(certDir, { recursive: true, force: true }));
const certs = await genCerts(path.join(certDir, 'certs'));
const TOKEN = 'real-project-token';
const secure = { DISTBUILD_TOKEN: TOKEN, ...clientTlsEnv(certs) };
const farm = await startFarm({ certs, env: { DISTBUILD_TOKEN: TOKEN }, workers: [{ name: 'w1', mount }, { name: 'w2', mount }] });
t.teardown(() => farm.stop());
t.match(farmLogs(farm), /listening \(mTLS \+ token\)/, 'the server serves mTLS and requires a token');

/** `distbuild --status --json`, exactly as a user would run it. */
async function statusJson(): Promise<StatusReply> {
  const out = await execa(process.execPath, [BIN, '--status', '--json', `--server-addr=${farm.addr}`], { env: secure });
  return JSON.parse(out.stdout) as StatusReply;
}

for (const generator of ['Ninja', 'Unix Makefiles'] as Generator[]) {
  t.test(`${generator}: byte-identical to a plain build, every job on a worker`, async (t) => {
    const reference = path.join(mount, `plain-${generator.replace(' ', '-')}`);
    rmSync(buildDir, { recursive: true, force: true });
    await configure(src, buildDir, generator, undefined, OPTIONS);
    await build(buildDir, generator);
    renameSync(buildDir, reference);

    const before = await statusJson();
    await configure(src, buildDir, generator, farm.launcherArgs(mount), OPTIONS, secure);
    const out = await build(buildDir, generator, secure);
    const after = await statusJson();

    const files = artefacts(reference);
    const kinds = (re: RegExp) => files.filter((f) => re.test(f)).length;
    t.ok(kinds(/\.o$/) >= 40, `${kinds(/\.o$/)} objects`);
    t.ok(kinds(/\.a$/) >= 1 && kinds(/\.so[.\d]*$/) >= 1, 'archives and shared libraries');
    t.ok(kinds(/^bin\//) >= 3, 'executables');
    t.same(differences(reference, buildDir, files), [], 'every .o, .a, .so and executable is byte-identical');
    t.same(artefacts(buildDir), files, 'the same set of artefacts');

    t.same(out.local, [], 'nothing ran locally');
    const compiles = after.totals.compiles - before.totals.compiles;
    const links = after.totals.links - before.totals.links;
    t.equal(compiles, kinds(/\.o$/), 'one remote compile per object');
    t.ok(links >= kinds(/\.so[.\d]*$/) + kinds(/^bin\//), `${links} remote links and archive steps`);
    t.equal(out.remote, compiles + links, 'every launcher reported a remote run');
    t.equal(after.totals.failed, before.totals.failed, 'no job failed');
    t.equal(after.totals.retries, before.totals.retries, 'no job retried');
    for (const w of after.workers) {
      const was = before.workers.find((b) => b.name === w.name)?.completed ?? 0;
      t.ok(w.completed - was > 5, `${w.name} ran ${w.completed - was} of them`);
    }
    const ahost = await execa(path.join(buildDir, 'bin', 'ahost'), ['localhost'], { reject: false });
    t.match(ahost.stdout, /127\.0\.0\.1|::1/, 'the farm-built ahost resolves localhost');
    if (t.passing() === false) t.comment(farmLogs(farm));
    rmSync(reference, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });
}
