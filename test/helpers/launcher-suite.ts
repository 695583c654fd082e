// The launcher tests, run once with the native client (launcher.test.ts) and once with the Node launcher (launcher-node.test.ts).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { BIN, childEnv, farmLogs, launcherExe, startFarm, type LauncherKind } from './farm.js';

export async function launcherSuite(kind: LauncherKind): Promise<void> {
  const exe = launcherExe(kind);
  const mount = mkdtempSync(path.join(os.tmpdir(), `distbuild-launcher-${kind}-`));
  const work = path.join(mount, 'proj');
  mkdirSync(work);
  t.teardown(() => rmSync(mount, { recursive: true, force: true }));
  writeFileSync(path.join(work, 'bad.c'), 'int main(void) {\n  return undefined_name;\n}\n');
  writeFileSync(path.join(work, 'warn.c'), '#include "warn.h"\nint f(int x) { int unused; return x; }\n');
  writeFileSync(path.join(work, 'warn.h'), '#define W 1\n');
  writeFileSync(path.join(work, 'ok.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');

  const farm = await startFarm({ workers: [{ name: 'w1', mount }] });
  t.teardown(() => farm.stop());
  /** A private agent socket for launchers given no farm flags. */
  const ownSocket = `--agent-socket=${farm.agentSocket}`;

  // Through env(1), which drops the NODE_OPTIONS that tap's process tracking adds to every child it spawns:
  // a build's launchers run without it (and it would catch the signals a launcher dies of).
  const launch = (mode: '--compiler' | '--linker', cmd: string[], opts: { cwd?: string; input?: string; extra?: string[]; env?: Record<string, string> } = {}) =>
    execa('env', ['-u', 'NODE_OPTIONS', exe, ...farm.launcherArgs(mount, opts.extra ?? [], kind).slice(1), mode, '--', ...cmd], {
      cwd: opts.cwd ?? work,
      env: { ...childEnv(), ...opts.env },
      extendEnv: false,
      reject: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    });
  const local = (cmd: string[], cwd = work) =>
    execa(cmd[0] ?? '', cmd.slice(1), { cwd, reject: false, encoding: 'buffer', stripFinalNewline: false, stdin: 'ignore' });

  t.test(`${kind}: a compile error is returned unchanged, once, and not held against the worker`, async (t) => {
    const cmd = ['gcc', '-c', 'bad.c', '-o', 'bad.o'];
    const expected = await local(cmd);
    t.not(expected.exitCode, 0, 'gcc itself fails');
    const before = await farm.status();
    const got = await launch('--compiler', cmd);
    t.equal(got.exitCode, expected.exitCode, 'same exit code');
    t.same(Buffer.from(got.stderr), Buffer.from(expected.stderr), 'same stderr, byte for byte');
    t.same(Buffer.from(got.stdout), Buffer.from(expected.stdout), 'same stdout');
    const after = await farm.status();
    t.equal(after.totals.submitted - before.totals.submitted, 1, 'one job');
    t.equal(after.totals.compileErrors - before.totals.compileErrors, 1, 'counted as a compile error');
    t.equal(after.totals.retries, before.totals.retries, 'not retried');
    t.equal(after.workers[0]?.failed, 0, 'the worker is not blamed');
    t.equal(after.workers[0]?.circuit, 'closed', "the worker's circuit stays closed");
    const attempts = (farm.logs.get('w1') ?? []).join('').split('\n').filter((l) => /ran `gcc -c bad\.c/.test(l));
    t.equal(attempts.length, 1, 'the worker ran it once');
  });

  t.test(`${kind}: warnings and a successful compile match a local run`, async (t) => {
    const expected = await local(['gcc', '-Wall', '-c', 'warn.c', '-o', 'warn-local.o']);
    const got = await launch('--compiler', ['gcc', '-Wall', '-c', 'warn.c', '-o', 'warn.o']);
    t.equal(got.exitCode, 0);
    t.same(Buffer.from(got.stderr), Buffer.from(expected.stderr), 'the same warnings');
    t.ok(readFileSync(path.join(work, 'warn.o')).equals(readFileSync(path.join(work, 'warn-local.o'))), 'the same object');
  });

  t.test(`${kind}: drop-in use, the compiler as the first argument, as sccache has it; --version`, async (t) => {
    const env = { ...childEnv(), DISTBUILD_SERVER_ADDR: farm.addr, DISTBUILD_FS_MOUNT: mount, DISTBUILD_AGENT_SOCKET: farm.agentSocket, DISTBUILD_VERBOSE: '1' };
    const compiled = await execa('env', ['-u', 'NODE_OPTIONS', exe, 'gcc', '-c', 'ok.c', '-o', 'dropin.o'], { cwd: work, env, extendEnv: false, reject: false });
    t.equal(compiled.exitCode, 0, compiled.stderr);
    t.match(compiled.stderr, /^\[remote w1 \d+\.\d\ds\] ok\.c\n?$/, 'compiled on the farm');
    const linked = await execa('env', ['-u', 'NODE_OPTIONS', exe, 'gcc', 'dropin.o', '-o', 'dropin'], { cwd: work, env, extendEnv: false, reject: false });
    t.equal(linked.exitCode, 0, linked.stderr);
    t.match(linked.stderr, /\[remote w1 /, 'linked on the farm');
    t.equal((await execa(path.join(work, 'dropin'))).stdout, 'hi');
    const version = await execa('env', ['-u', 'NODE_OPTIONS', exe, '--version'], { env: childEnv(), extendEnv: false, reject: false });
    t.equal(version.exitCode, 0);
    t.match(version.stdout, /^distbuild \d+\.\d+\.\d+/);
  });

  t.test(`${kind}: a link runs on the farm and the program works`, async (t) => {
    t.equal((await launch('--compiler', ['gcc', '-c', 'ok.c', '-o', 'ok.o'])).exitCode, 0);
    const linked = await launch('--linker', ['gcc', 'ok.o', '-o', 'ok'], { extra: ['--verbose'] });
    t.equal(linked.exitCode, 0);
    t.match(Buffer.from(linked.stderr).toString(), /^\[remote w1 \d+\.\d\ds\] ok\n$/);
    t.equal((await execa(path.join(work, 'ok'))).stdout, 'hi');
  });

  t.test(`${kind}: commands that cannot sensibly run remotely run locally, with the reason under --verbose`, async (t) => {
    const pre = await launch('--compiler', ['gcc', '-E', 'warn.c'], { extra: ['--verbose'] });
    t.equal(pre.exitCode, 0);
    t.match(Buffer.from(pre.stderr).toString(), /\[local: preprocessing only \(-E\)\] warn\.c/);
    t.same(Buffer.from(pre.stdout), Buffer.from((await local(['gcc', '-E', 'warn.c'])).stdout), 'preprocessed output on stdout');

    const deps = await launch('--compiler', ['gcc', '-M', 'warn.c'], { extra: ['--verbose'] });
    t.match(Buffer.from(deps.stderr).toString(), /\[local: dependency listing only/);
    t.match(Buffer.from(deps.stdout).toString(), /warn\.o: warn\.c .*warn\.h/);

    const stdin = await launch('--compiler', ['gcc', '-x', 'c', '-c', '-', '-o', 'stdin.o'], { extra: ['--verbose'], input: 'int x;\n' });
    t.equal(stdin.exitCode, 0);
    t.match(Buffer.from(stdin.stderr).toString(), /\[local: reads its input from stdin\]/);

    const outside = mkdtempSync(path.join(os.tmpdir(), 'distbuild-outside-'));
    t.teardown(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(path.join(outside, 'o.c'), 'int y;\n');
    const out = await launch('--compiler', ['gcc', '-c', 'o.c', '-o', 'o.o'], { cwd: outside, extra: ['--verbose'] });
    t.equal(out.exitCode, 0);
    t.match(Buffer.from(out.stderr).toString(), /\[local: the working directory .* is outside the mount/);

    // What a worker's flag policy would refuse builds here instead of failing there.
    const unknown = await launch('--compiler', ['gcc', '-fno-such-option=1', '-c', 'ok.c', '-o', 'unknown.o'], { extra: ['--verbose'] });
    t.equal(unknown.exitCode, 1, 'gcc itself refuses the option, here');
    t.match(Buffer.from(unknown.stderr).toString(), /\[local: a worker would refuse it: the option "-fno-such-option=1" is not one this worker knows; if it is safe, add -fno-such-option to allow_flags\]/);
    writeFileSync(path.join(work, 'plugin.rsp'), '-fplugin=/nonexistent/evil.so\n');
    const plugin = await launch('--compiler', ['gcc', '-c', 'ok.c', '-o', 'plugin.o', '@plugin.rsp'], { extra: ['--verbose'] });
    t.match(Buffer.from(plugin.stderr).toString(), /\[local: a worker would refuse it: the option "-fplugin=\/nonexistent\/evil\.so" loads code into the compiler; this worker does not allow -fplugin \(setting allow_flags\)\]/);
    const depEnv = await launch('--compiler', ['gcc', '-c', 'ok.c', '-o', 'depenv.o'], { extra: ['--verbose'], env: { DEPENDENCIES_OUTPUT: 'depenv.d' } });
    t.equal(depEnv.exitCode, 0);
    t.match(Buffer.from(depEnv.stderr).toString(), /\[local: DEPENDENCIES_OUTPUT is set: gcc would write the dependency file it names, which the farm does not confine\]/);
    t.ok(existsSync(path.join(work, 'depenv.d')), 'gcc wrote the dependency file it was asked for, here');
    if (t.passing() === false) t.comment(farmLogs(farm));
  });

  t.test(`${kind}: a command run locally exits as it did, by its code or by its signal`, async (t) => {
    // No mount here: the agent has the client run it.
    const extra = ['--fs-mount=/nonexistent/mount'];
    const code = await launch('--compiler', ['sh', '-c', 'exit 7'], { extra });
    t.equal(code.exitCode, 7, 'the exit code');
    const killed = await launch('--compiler', ['sh', '-c', 'kill -TERM $$'], { extra });
    t.equal(killed.signal, 'SIGTERM', 'the launcher died of the signal that killed its command');
  });

  t.test(`${kind}: an unreachable server means a local build, with the reason`, async (t) => {
    const got = await execa(
      exe,
      ['--compiler', '--server-addr=127.0.0.1:1', `--fs-mount=${mount}`, ownSocket, '--connect-timeout=500ms', '--verbose', '--', 'gcc', '-c', 'ok.c', '-o', 'ok2.o'],
      { cwd: work, reject: false },
    );
    t.equal(got.exitCode, 0);
    t.match(got.stderr, /\[local: cannot connect to the server 127\.0\.0\.1:1 within the connect timeout of 500 ms \(setting connect_timeout/);
  });

  t.test(`${kind}: bad launcher flags fail with a message naming them`, async (t) => {
    const got = await execa(exe, ['--compiler', ownSocket, '--max-jbos=3', '--', 'gcc', '-c', 'ok.c'], { cwd: work, reject: false });
    t.equal(got.exitCode, 2);
    t.match(got.stderr, /unknown flag "--max-jbos"/);
    const none = await execa(exe, ['--compiler', ownSocket, '--'], { cwd: work, reject: false });
    t.equal(none.exitCode, 2);
    t.match(none.stderr, /no command given after "--"/);
  });

  t.test(`${kind}: the launcher reads a TOML config file (through its agent)`, async (t) => {
    const config = path.join(mount, 'launcher.toml');
    writeFileSync(config, 'verbose = true\n');
    const got = await launch('--compiler', ['gcc', '-c', 'ok.c', '-o', 'ok4.o'], { extra: [`--config=${config}`] });
    t.equal(got.exitCode, 0, Buffer.from(got.stderr).toString());
    t.match(Buffer.from(got.stderr).toString(), /^\[remote w1 [\d.]+s\] ok\.c/m, 'verbose from the file');
    writeFileSync(config, 'verbose = false\n');
    const quiet = await launch('--compiler', ['gcc', '-c', 'ok.c', '-o', 'ok4.o'], { extra: [`--config=${config}`] });
    t.equal(Buffer.from(quiet.stderr).toString(), '', 'a changed file is read again');
  });

  if (kind === 'native') {
    t.test('native: a command run locally gets the environment as it was, NODE_EXTRA_CA_CERTS included', async (t) => {
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
      // `env` has no input file: it runs locally, with the client's environment.
      const got = await execa(exe, ['--compiler', `--fs-mount=${mount}`, ownSocket, '--', 'env'], { cwd: work, env, reject: false });
      t.equal(got.exitCode, 0, got.stderr);
      t.match(got.stdout, /^NODE_EXTRA_CA_CERTS=\/nonexistent\/ca\.pem$/m);
    });
  } else {
    t.test('node: bin/distbuild-launch starts Node without NODE_EXTRA_CA_CERTS and gives it back to what the launcher runs', async (t) => {
      const wrapper = path.join(path.dirname(BIN), 'distbuild-launch');
      const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
      const got = await execa(wrapper, ['--compiler', `--fs-mount=${mount}`, ownSocket, '--', 'env'], { cwd: work, env, reject: false });
      t.equal(got.exitCode, 0, got.stderr);
      const vars = new Map(got.stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      t.equal(vars.get('NODE_EXTRA_CA_CERTS'), '/nonexistent/ca.pem', 'the command sees the original value');
      t.notOk(vars.has('DISTBUILD_NODE_EXTRA_CA_CERTS'), 'and not the stash');
      // Node itself would warn that it cannot read the file: the launcher's Node never saw it.
      t.notMatch(got.stderr, /NODE_EXTRA_CA_CERTS|Ignoring extra certs/, 'the launcher did not load the certificates');
      const remote = await execa(wrapper, [...farm.launcherArgs(mount, [], kind).slice(1), '--verbose', '--compiler', '--', 'gcc', '-c', 'ok.c', '-o', 'ok3.o'], { cwd: work, env, reject: false });
      t.equal(remote.exitCode, 0, remote.stderr);
      t.match(remote.stderr, /^\[remote w1 /m, 'a remote compile through the wrapper');
    });

    t.test('node: the launcher bundle compiles from its V8 code cache', async (t) => {
      const shim: { loadLauncher(): { script: { cachedDataRejected?: boolean } } } = createRequire(import.meta.url)(BIN);
      t.equal(shim.loadLauncher().script.cachedDataRejected, false, 'dist/launcher.cjs.cache was accepted');
    });
  }
}
