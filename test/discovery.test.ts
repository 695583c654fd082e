// Zero-config discovery: in network namespaces of its own, a worker and --status without server_addr find the server by mDNS.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { BIN, clientTlsEnv, serverTlsEnv, waitForLine } from './helpers/farm.js';

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

/** Why this test cannot run here, or undefined: it needs root and ip (iproute2) to make namespaces. */
function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (ip('-V').error !== undefined) return 'needs ip (apt-get install -y iproute2; .ci/run installs it)';
  const probe = `dbprobe${process.pid}`;
  const made = ip('netns', 'add', probe);
  if (made.status !== 0) return `cannot create a network namespace: ${made.stderr.trim()}`;
  ip('netns', 'del', probe);
  return undefined;
}

t.test('a worker and --status started without server_addr find the server on the LAN', { skip: cannotRun() }, async (t) => {
  // Two "hosts" joined by a veth pair: all traffic, mDNS included, stays inside these namespaces.
  const hosts = { server: { ns: `dbs${process.pid}`, dev: `dbvs${process.pid}`, addr: '10.77.0.1' }, worker: { ns: `dbw${process.pid}`, dev: `dbvw${process.pid}`, addr: '10.77.0.2' } };
  const started: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(started.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    for (const h of Object.values(hosts)) ip('netns', 'del', h.ns); // removes the veth ends too
  });
  const must = (...args: string[]): void => {
    const r = ip(...args);
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  };
  for (const h of Object.values(hosts)) must('netns', 'add', h.ns);
  must('link', 'add', hosts.server.dev, 'type', 'veth', 'peer', 'name', hosts.worker.dev);
  for (const h of Object.values(hosts)) {
    must('link', 'set', h.dev, 'netns', h.ns);
    must('-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', h.dev);
    must('-n', h.ns, 'link', 'set', h.dev, 'up');
    must('-n', h.ns, 'link', 'set', 'lo', 'up');
    must('-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', h.dev); // mDNS multicast goes out over the veth
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-discovery-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // An empty config file, and no DISTBUILD_SERVER_ADDR: nothing names the server.
  const config = path.join(dir, 'empty.toml');
  writeFileSync(config, '# nothing: the server is found by mDNS\n');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('_TAPJS') && !k.startsWith('DISTBUILD_')));
  // A token is sent only to a server that proves itself: the farm serves TLS, its certificate names its LAN address.
  const certs = path.join(dir, 'certs');
  await execa(process.execPath, [BIN, '--gen-certs', certs, `--gen-certs-san=${hosts.server.addr}`]);
  const plainToken = { ...env, DISTBUILD_TOKEN: 'lan secret' };
  const token = { ...plainToken, ...clientTlsEnv(certs) };
  const inNs = (ns: string, args: string[], childEnv = token): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, ...args, `--config=${config}`], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    started.push(child);
    return child;
  };
  const logs = new Map<string, string[]>();
  const record = (name: string, child: ChildProcess): void => {
    const lines: string[] = [];
    logs.set(name, lines);
    child.stdout?.on('data', (c: Buffer) => lines.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => lines.push(c.toString()));
  };

  const server = inNs(hosts.server.ns, ['--server', `--listen=${hosts.server.addr}:0`, '--log-level=debug'], { ...plainToken, ...serverTlsEnv(certs) });
  record('server', server);
  const announced = waitForLine(server, /announced on the LAN by mDNS/, 'the server');
  const port = Number(/:(\d+)$/.exec(await waitForLine(server, /^distbuild server listening on /, 'the server'))?.[1]);
  await announced;
  t.ok(port > 0, `the server listens on ${hosts.server.addr}:${port} and announces itself`);

  const worker = inNs(hosts.worker.ns, ['--worker', `--fs-mount=${dir}`, '--name=lan-worker', '--max-jobs=1', '--allow-root', '--discovery-timeout=10s', '--log-level=debug']);
  record('worker', worker);
  const found = waitForLine(worker, /by mDNS/, 'the worker');
  const registered = await waitForLine(worker, /registered with/, 'the worker');
  t.match(await found, new RegExp(`found the server .* at ${hosts.server.addr.replace(/\./g, '\\.')}:${port} by mDNS`), 'the worker found the server by browsing');
  t.match(registered, new RegExp(`registered with ${hosts.server.addr.replace(/\./g, '\\.')}:${port} as lan-worker`), 'and registered with it');

  const nsStatus = (extra: string[]) =>
    execa('ip', ['netns', 'exec', hosts.worker.ns, process.execPath, BIN, '--status', '--json', `--config=${config}`, ...extra], { env: token, reject: false });
  const status = await nsStatus(['--discovery-timeout=10s']);
  t.equal(status.exitCode, 0, `--status found the server too: ${status.stderr}`);
  const reply = JSON.parse(status.stdout) as { workers: Array<{ name: string; address: string }> };
  t.same(reply.workers.map((w) => w.name), ['lan-worker'], 'the server lists the worker');
  t.match(reply.workers[0]?.address ?? '', new RegExp(`^${hosts.worker.addr.replace(/\./g, '\\.')}:`), "from the worker's own address");

  // A launcher without server_addr leaves the lookup to its agent, which holds the channel.
  const work = path.join(dir, 'w');
  mkdirSync(work);
  writeFileSync(path.join(work, 'a.c'), 'int a(void) { return 1; }\n');
  const socket = path.join(dir, 'agent', 'agent.sock');
  t.teardown(() => {
    try {
      process.kill(Number(readFileSync(path.join(dir, 'agent', 'agent.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // no agent left
    }
  });
  const launched = await execa('ip', ['netns', 'exec', hosts.worker.ns, process.execPath, BIN, `--config=${config}`, `--fs-mount=${dir}`, `--agent-socket=${socket}`,
    '--discovery-timeout=10s', '--no-fallback', '--verbose', '--compiler', '--', 'gcc', '-c', 'a.c', '-o', 'a.o'], { cwd: work, env: token, reject: false });
  t.equal(launched.exitCode, 0, `the launcher's job succeeded: ${launched.stderr}`);
  t.match(launched.stderr, /\[remote lan-worker [\d.]+s\] a\.c/, 'and ran on the worker its agent found by mDNS');

  const untrusted = await execa('ip', ['netns', 'exec', hosts.worker.ns, process.execPath, BIN, '--status', `--config=${config}`, '--discovery-timeout=10s', '--connect-timeout=300ms'], {
    env: plainToken,
    reject: false,
  });
  t.equal(untrusted.exitCode, 1, 'a client with a token but no tls_ca does not use a server it cannot authenticate');
  t.match(untrusted.stderr, /not searching the LAN \(mDNS\) for a server: this client holds a token, which would go to whichever host answers first/);
  t.match(untrusted.stderr, /cannot connect to the server 127\.0\.0\.1:50051/, 'it tries the default address instead');

  const off = await nsStatus(['--no-mdns', '--connect-timeout=300ms']);
  t.equal(off.exitCode, 1, 'with mdns = false nothing is looked up');
  t.match(off.stderr, /cannot connect to the server 127\.0\.0\.1:50051/, 'and 127.0.0.1:50051 is tried');
  if (t.passing() === false) t.comment([...logs].map(([n, l]) => `----- ${n}\n${l.join('')}`).join('\n'));
});
