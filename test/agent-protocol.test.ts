// The agent protocol (proto/agent-protocol.md) on shared vectors: the TypeScript codec, the native client and the Node launcher speak the same bytes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import {
  FRAME,
  createFrameReader,
  decodeRequest,
  encodeHello,
  encodeJson,
  encodeRequest,
  type ClientRequest,
  type Frame,
} from '../src/protocol/agent-frames.js';
import { BIN, NATIVE_CLIENT, ROOT, childEnv, type LauncherKind } from './helpers/farm.js';

interface Vectors {
  readonly hello: string;
  readonly mismatchFromProtocol2: string;
  readonly requests: ReadonlyArray<{ readonly name: string; readonly request: ClientRequest; readonly hex: string }>;
  readonly answers: ReadonlyArray<{ readonly name: string; readonly hex: string; readonly stdout: string; readonly stderr: string; readonly exit: number; readonly runLocal?: boolean }>;
}

const vectors: Vectors = JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'agent-vectors.json'), 'utf8'));
const bytes = (hex: string): Buffer => Buffer.from(hex, 'hex');

t.test('the TypeScript codec writes and reads the vectors byte for byte', async (t) => {
  t.equal(encodeHello().toString('hex'), vectors.hello, 'HELLO');
  for (const v of vectors.requests) {
    t.equal(encodeRequest(v.request).toString('hex'), v.hex, `encodes: ${v.name}`);
    const frames: Frame[] = [];
    createFrameReader((f) => frames.push(f))(bytes(v.hex));
    t.equal(frames[0]?.type, FRAME.REQUEST);
    t.same(decodeRequest(frames[0]?.payload ?? Buffer.alloc(0)), v.request, `decodes: ${v.name}`);
  }
  t.throws(() => decodeRequest(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x41])), /id is not NUL-terminated/, 'a truncated request is an error naming the field');
  t.throws(() => decodeRequest(Buffer.concat([Buffer.alloc(8), Buffer.from('i\0c\0'), Buffer.from([0xff, 0xff, 0xff, 0xff])])), /cannot fit/, 'a count beyond the bytes left is refused');
});

/** A fake agent on a fresh socket directory: records what a client sends, answers with `answer`. */
async function fakeAgent(answer: (request: ClientRequest, conn: net.Socket) => void) {
  const runtime = mkdtempSync(path.join(os.tmpdir(), 'distbuild-fake-agent-'));
  const dir = path.join(runtime, 'distbuild');
  mkdirSync(dir, { mode: 0o700 });
  const socket = path.join(dir, 'agent.sock');
  const got: { raw: Buffer[]; hello?: Buffer; request?: ClientRequest; closedAt?: number } = { raw: [] };
  let onClose: () => void = () => undefined;
  const closed = new Promise<void>((r) => {
    onClose = r;
  });
  const server = net.createServer((conn) => {
    const read = createFrameReader((f) => {
      if (f.type === FRAME.JSON) got.hello = Buffer.from(f.payload);
      else if (f.type === FRAME.REQUEST) {
        got.request = decodeRequest(f.payload);
        answer(got.request, conn);
      }
    });
    conn.on('data', (c: Buffer) => {
      got.raw.push(c);
      read(c);
    });
    conn.on('close', () => {
      got.closedAt = Date.now();
      onClose();
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    runtime, socket, got, closed,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(runtime, { recursive: true, force: true });
    },
  };
}

const kinds: LauncherKind[] = existsSync(NATIVE_CLIENT) ? ['native', 'node'] : ['node'];

/** Runs a client with exactly `env` (plus XDG_RUNTIME_DIR, which leads it to the fake agent). */
function runClient(kind: LauncherKind, argv: readonly string[], env: readonly string[], runtime: string, cwd: string) {
  const vars = Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const full = { ...vars, XDG_RUNTIME_DIR: runtime };
  const [file, args, argv0] = kind === 'native' ? [NATIVE_CLIENT, argv.slice(1), argv[0]] : [process.execPath, [BIN, ...argv.slice(1)], undefined];
  return execa(file, args, { env: full, extendEnv: false, cwd, reject: false, encoding: 'buffer', stripFinalNewline: false, ...(argv0 !== undefined ? { argv0 } : {}) });
}

for (const kind of kinds) {
  t.test(`${kind}: the request carries argv, cwd and environment as the vectors encode them`, async (t) => {
    for (const v of vectors.requests) {
      const agent = await fakeAgent((_r, conn) => conn.end(Buffer.from(vectors.answers[0]?.hex ?? '', 'hex')));
      t.teardown(agent.close);
      const cwd = mkdtempSync(path.join(os.tmpdir(), 'distbuild-vector-cwd-'));
      t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
      await runClient(kind, v.request.argv, v.request.env, agent.runtime, cwd);
      const got = agent.got.request;
      if (got === undefined) {
        t.fail(`${v.name}: no request arrived`);
        continue;
      }
      t.equal(agent.got.hello?.toString('hex'), bytes(vectors.hello).subarray(5).toString('hex'), `${v.name}: HELLO first`);
      t.same(got.argv.slice(1), v.request.argv.slice(1), `${v.name}: argv`);
      if (kind === 'native') t.equal(got.argv[0], v.request.argv[0], `${v.name}: argv[0] as the build system gave it`);
      t.equal(got.cwd, cwd, `${v.name}: the working directory`);
      // Less what the test adds: XDG_RUNTIME_DIR (the fake agent), and the NODE_OPTIONS and _TAPJS_* of tap's process tracking.
      const env = got.env.filter((e) => !e.startsWith('XDG_RUNTIME_DIR=') && !e.startsWith('NODE_OPTIONS=') && !e.startsWith('_TAPJS'));
      t.same(env, v.request.env, `${v.name}: the whole environment, in order`);
      t.equal(got.flags, 0);
      t.match(got.id, new RegExp(`^${os.hostname()}-\\d+-[0-9a-z]+-[0-9a-z]+$`), `${v.name}: a job id of host, pid, time and random`);
      // What the client sent, byte for byte, is what the TypeScript encoder writes for the same request.
      t.equal(Buffer.concat(agent.got.raw).toString('hex'), Buffer.concat([encodeHello(), encodeRequest(got)]).toString('hex'), `${v.name}: the same bytes as the TypeScript encoder`);
    }
  });

  t.test(`${kind}: the agent's answers are relayed and exited with, as the vectors say`, async (t) => {
    for (const v of vectors.answers) {
      let sentAt = 0;
      const agent = await fakeAgent((_r, conn) => {
        sentAt = Date.now();
        if (v.runLocal === true) conn.write(bytes(v.hex)); // and keep the connection: it holds the slot
        else conn.end(bytes(v.hex));
      });
      t.teardown(agent.close);
      const argv = ['distbuild', '--compiler', '--', 'sh', '-c', 'sleep 0.3; echo local run; exit 5'];
      const r = await runClient(kind, argv, ['LANG=C'], agent.runtime, os.tmpdir());
      t.equal(Buffer.from(r.stdout).toString(), v.stdout, `${v.name}: stdout`);
      t.equal(Buffer.from(r.stderr).toString(), v.stderr, `${v.name}: stderr`);
      t.equal(r.exitCode, v.exit, `${v.name}: exit code`);
      if (v.runLocal === true) {
        await agent.closed;
        t.ok((agent.got.closedAt ?? 0) - sentAt >= 250, `${v.name}: the connection (and the slot) was held while the command ran (${(agent.got.closedAt ?? 0) - sentAt} ms)`);
      }
    }
  });

  t.test(`${kind}: an agent of another protocol: an older one is replaced, a newer one leaves the job local`, async (t) => {
    // Newer: the client builds locally, saying why under --verbose, and leaves the agent be.
    const newer = await fakeAgent((_r, conn) => conn.end(encodeJson({ type: 'version-mismatch', agent: 9 })));
    t.teardown(newer.close);
    const argv = ['distbuild', '--compiler', '--verbose', '--', 'sh', '-c', 'echo built here'];
    const r = await runClient(kind, argv, ['LANG=C'], newer.runtime, os.tmpdir());
    t.equal(r.exitCode, 0);
    t.equal(Buffer.from(r.stdout).toString(), 'built here\n');
    t.match(Buffer.from(r.stderr).toString(), /\[local: the running agent speaks protocol 9, this client 3/);
    t.ok(existsSync(newer.socket), "the newer agent's socket is left alone");

    // Older (protocol 2): the client takes the socket name, starts an agent of its own protocol, and the job goes through it.
    const older = await fakeAgent((_r, conn) => conn.end(bytes(vectors.mismatchFromProtocol2)));
    t.teardown(older.close);
    const run = await runClient(kind, ['distbuild', '--compiler', '--fs-mount=/nonexistent/mount', '--verbose', '--', 'sh', '-c', 'echo via a new agent'],
      ['LANG=C'], older.runtime, os.tmpdir());
    t.equal(run.exitCode, 0, Buffer.from(run.stderr).toString());
    t.equal(Buffer.from(run.stdout).toString(), 'via a new agent\n');
    t.match(Buffer.from(run.stderr).toString(), /\[local: the mount \/nonexistent\/mount does not exist/, 'the new agent planned the job');
    const pidFile = path.join(path.dirname(older.socket), 'agent.pid');
    t.ok(existsSync(pidFile), 'a new agent runs');
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  });
}

t.test('the agent answers a client of protocol 2 with a mismatch, and garbage by hanging up; it serves on', async (t) => {
  const runtime = mkdtempSync(path.join(os.tmpdir(), 'distbuild-agent-v2-'));
  t.teardown(() => rmSync(runtime, { recursive: true, force: true }));
  const socket = path.join(runtime, 'distbuild', 'agent.sock');
  const agent = execa(process.execPath, [BIN, '--agent', `--agent-socket=${socket}`], { env: childEnv(), extendEnv: false, reject: false });
  t.teardown(() => agent.kill('SIGTERM'));
  const ask = (payload: Buffer): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const conn = net.createConnection(socket);
      const chunks: Buffer[] = [];
      conn.on('data', (c: Buffer) => chunks.push(c));
      conn.on('close', () => resolve(Buffer.concat(chunks)));
      conn.on('error', reject);
      conn.write(payload);
    });
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error('the agent did not start within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const v2 = await ask(encodeJson({ v: 2, type: 'job', id: 'old', kind: 'compile', argv: ['cc', '-c', 'a.c'] }));
  const frames: Frame[] = [];
  createFrameReader((f) => frames.push(f))(v2);
  t.equal(frames[0]?.type, FRAME.JSON);
  t.same(JSON.parse(frames[0]?.payload.toString() ?? '{}'), { type: 'version-mismatch', agent: 3 }, 'a protocol-2 launcher learns the version and builds locally');
  const garbage = await ask(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  t.equal(garbage.length, 0, 'a frame of a bad length: the agent hangs up');
  const notRequest = await ask(Buffer.concat([encodeHello(), encodeJson({ not: 'a request' })]));
  t.equal(notRequest.length, 0, 'a second frame that is not a REQUEST: the agent hangs up');
  const again = await ask(encodeJson({ v: 2 }));
  t.ok(again.length > 0, 'and it still answers the next client');
});
