// `npm pack` + `npm i -g` as a user does: with a C compiler `distbuild` is the native client; without one, the Node launcher, and both build.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { whichSync } from '../src/worker/capabilities.js';
import { ROOT, childEnv, startFarm } from './helpers/farm.js';
import { build } from './helpers/cmake.js';

const top = mkdtempSync(path.join(os.tmpdir(), 'distbuild-install-'));
t.teardown(() => rmSync(top, { recursive: true, force: true }));
const mount = path.join(top, 'shared');
const work = path.join(mount, 'w');
mkdirSync(work, { recursive: true });
writeFileSync(path.join(work, 'a.c'), 'int a(void) { return 1; }\n');

// The package as `npm pack` makes it (the build is already in dist/: no scripts, so the suite's dist is left alone).
await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', top], { cwd: ROOT, env: childEnv(), extendEnv: false });
const tarball = path.join(top, `distbuild-${(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}.tgz`);
const npmCli = realpathSync(whichSync('npm') ?? 'npm');

/** `npm i -g` of the tarball into `prefix`, from npm's cache where it can, with PATH = `pathDirs`. */
async function install(prefix: string, pathDirs: string): Promise<string> {
  const r = await execa(process.execPath, [npmCli, 'i', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
    { cwd: top, env: { HOME: process.env.HOME ?? '/root', PATH: pathDirs }, extendEnv: false, all: true, reject: false });
  if (r.exitCode !== 0) throw new Error(`npm i -g failed (${r.exitCode}):\n${r.all}`);
  return r.all;
}

const farm = await startFarm({ workers: [{ name: 'w1', mount }] });
t.teardown(() => farm.stop());

/** A remote compile through the installed `distbuild`, as CMake would run it. */
const compile = (bin: string, out: string) =>
  execa(bin, ['--compiler', `--server-addr=${farm.addr}`, `--fs-mount=${mount}`, `--agent-socket=${path.join(top, `agent-${out}`, 'agent.sock')}`, '--verbose',
    '--', 'gcc', '-c', 'a.c', '-o', out], { cwd: work, reject: false, env: childEnv(), extendEnv: false });
const stopAgent = (out: string): void => {
  const pidFile = path.join(top, `agent-${out}`, 'agent.pid');
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  } catch (err) {
    if (!(err instanceof Error)) throw err; // no agent was started
  }
};

t.test('with a C compiler: the installed `distbuild` is the native client, and every mode works', async (t) => {
  const prefix = path.join(top, 'with-cc');
  const log = await install(prefix, childEnv().PATH ?? '/usr/bin:/bin');
  t.match(log, /bin\/distbuild is now the native client/);
  const bin = path.join(prefix, 'bin', 'distbuild');
  t.equal(readFileSync(bin).subarray(0, 4).toString('latin1'), '\x7fELF', 'bin/distbuild is an executable of this host');
  const r = await compile(bin, 'native.o');
  stopAgent('native.o');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stderr, /^\[remote w1 [\d.]+s\] a\.c$/m, 'a remote compile');
  // The sample project through the installed copy: its CMake module, its client, every job on the worker.
  const pkg = path.join(prefix, 'lib', 'node_modules', 'distbuild');
  const sample = path.join(mount, 'sample');
  cpSync(path.join(pkg, 'test', 'fixtures', 'sample-project'), sample, { recursive: true });
  const socket = path.join(top, 'agent-sample', 'agent.sock');
  await execa('cmake', ['-S', sample, '-B', path.join(mount, 'sample-build'), '-G', 'Ninja', `-DCMAKE_PROJECT_INCLUDE=${path.join(pkg, 'cmake', 'DistBuild.cmake')}`,
    `-DDISTBUILD_EXECUTABLE=${bin}`, `-DDISTBUILD_EXTRA_ARGS=--server-addr=${farm.addr};--fs-mount=${mount};--agent-socket=${socket}`, '-DDISTBUILD_VERBOSE=ON']);
  const built = await build(path.join(mount, 'sample-build'), 'Ninja');
  stopAgent('sample');
  t.ok(built.remote >= 40, `${built.remote} jobs of the sample project ran on the worker through the installed copy`);
  t.same(built.local, [], 'none locally');
  const help = await execa(bin, ['--help'], { reject: false });
  t.equal(help.exitCode, 0);
  t.match(help.stdout, /--server/, 'other modes start Node: --help');
  const status = await execa(bin, ['--status', `--server-addr=${farm.addr}`], { reject: false });
  t.match(status.stdout, /^server running/m, '--status');
  const certs = await execa(bin, ['--gen-certs', path.join(top, 'certs')], { reject: false });
  t.equal(certs.exitCode, 0, '--gen-certs');
  const server = execa(bin, ['--server', '--listen=127.0.0.1:0'], { reject: false, all: true });
  await new Promise<void>((resolve, reject) => {
    server.all?.on('data', (c: Buffer) => {
      if (/^distbuild server listening on /m.test(c.toString())) resolve();
    });
    void server.then(() => reject(new Error('the installed server exited')));
  });
  server.kill('SIGTERM');
  t.equal((await server).exitCode, 0, '--server starts and drains on SIGTERM');
});

t.test('without a C compiler: the install says so, and `distbuild` builds through the Node launcher', async (t) => {
  // A PATH with Node and a shell but no cc, gcc or clang.
  const bare = path.join(top, 'bare-bin');
  mkdirSync(bare);
  for (const tool of ['node', 'sh', 'env']) symlinkSync(whichSync(tool) ?? `/usr/bin/${tool}`, path.join(bare, tool));
  const prefix = path.join(top, 'without-cc');
  const log = await install(prefix, bare);
  t.match(log, /no C compiler found \(\$CC, cc, gcc, clang\): launchers run on Node/);
  const bin = path.join(prefix, 'bin', 'distbuild');
  t.equal(readFileSync(bin, 'utf8').split('\n')[0], '#!/bin/sh', 'bin/distbuild stays the sh fallback');
  const r = await compile(bin, 'node.o');
  stopAgent('node.o');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stderr, /^\[remote w1 [\d.]+s\] a\.c$/m, 'a remote compile through the Node launcher');
  // The CMake module of that install picks the Node launcher.
  const cmake = await execa('cmake', ['-S', path.join(prefix, 'lib', 'node_modules', 'distbuild', 'test', 'fixtures', 'sample-project'), '-B', path.join(top, 'b'), '-G', 'Ninja',
    `-DCMAKE_PROJECT_INCLUDE=${path.join(prefix, 'lib', 'node_modules', 'distbuild', 'cmake', 'DistBuild.cmake')}`, `-DDISTBUILD_EXECUTABLE=${bin}`], { reject: false, all: true });
  t.match(cmake.all, /distbuild: compiles and links go through \S*\/bin\/distbuild-launch/, 'the CMake module runs bin/distbuild-launch');
});
