// Hostile and malformed requests to a farm with mTLS and a token: each refused, naming the problem; nothing escapes.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { credentials, status as GrpcStatus } from '@grpc/grpc-js';
import { ClientError, Status } from 'nice-grpc';
import t from 'tap';
import type { Job } from '../src/protocol/messages.js';
import { schedulerDefinition } from '../src/protocol/scheduler-service.js';
import { CERT_FILES } from '../src/cli/gen-certs-command.js';
import { ROOT, TEST_ALLOWLIST, genCerts, startFarm } from './helpers/farm.js';
import { GET_STATUS, SUBMIT_JOBS, WORK, rawCall, rawClient, tokenMetadata } from './helpers/raw-grpc.js';
import { createJobSubmitter } from './helpers/submit-job.js';

const TOKEN = 'hostile-suite-token';
const FAKE_CC = path.join(ROOT, 'test', 'fixtures', 'fake-cc.sh');
const PRINT_ENV = path.join(ROOT, 'test', 'fixtures', 'print-env.sh');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'distbuild-hostile-'));
const mount = path.join(tmp, 'mount');
const outside = path.join(tmp, 'outside');
const work = path.join(mount, 'w');
mkdirSync(path.join(work, 'sub'), { recursive: true });
mkdirSync(outside);
symlinkSync(outside, path.join(work, 'link'));
symlinkSync('/bin/sh', path.join(work, 'cc'));
const CANARY = path.join(outside, 'canary');
writeFileSync(path.join(outside, 'evil.rsp'), '-c a.c\n');
writeFileSync(path.join(work, 'escape.rsp'), '-c a.c -o ../../escape.o\n');
writeFileSync(path.join(work, 'quoted.rsp'), `-c a.c "-o" '../../quoted escape.o'\n`);
writeFileSync(path.join(work, 'plugin.rsp'), '-fplugin=/tmp/evil.so\n');
writeFileSync(path.join(work, 'map.rsp'), `-Wl,-Map=${outside}/out.map\n`);
writeFileSync(path.join(work, 'nested.rsp'), '@/etc/passwd\n');
writeFileSync(path.join(work, 'many.rsp'), `${'-DX '.repeat(60)}\n`);
// For the time-of-check races and the confinement of what a tool writes in place
writeFileSync(path.join(outside, 'evil.sh'), `#!/bin/sh\ntouch ${CANARY}\n`, { mode: 0o755 });
writeFileSync(path.join(outside, 'lib.a'), '!<arch>\n');
copyFileSync(FAKE_CC, path.join(work, 'mycc.sh'));
chmodSync(path.join(work, 'mycc.sh'), 0o755);
symlinkSync(FAKE_CC, path.join(work, 'swap-cc'));
symlinkSync(path.join(outside, 'dangle.o'), path.join(work, 'dangle.o'));
symlinkSync(path.join(outside, 'lib.a'), path.join(work, 'lnk.a'));
writeFileSync(path.join(work, 'swap.rsp'), '-c a.c -o sub/swap.o\n');
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const certs = await genCerts(path.join(tmp, 'certs'));
const rogue = await genCerts(path.join(tmp, 'rogue')); // another CA: its client certificate is not trusted
const farm = await startFarm({
  certs,
  env: { DISTBUILD_TOKEN: TOKEN },
  serverArgs: ['--max-job-args=1000', '--max-arg-bytes=4096', '--max-message-bytes=1048576', '--max-jobs-per-client=8'],
  workers: [{ name: 'w1', mount, args: [`--compiler-allowlist=${[...TEST_ALLOWLIST, PRINT_ENV, path.join(work, 'mycc.sh')].join(',')}`, '--max-job-args=50'] }],
});
t.teardown(() => farm.stop());
const jobs = createJobSubmitter(farm.addr, mount, { certs, token: TOKEN });
t.teardown(() => jobs.close());

const pem = (dir: string, name: string): Buffer => readFileSync(path.join(dir, name));
const trusted = credentials.createSsl(pem(certs, CERT_FILES.ca), pem(certs, CERT_FILES.clientKey), pem(certs, CERT_FILES.client));
const raw = rawClient(farm.addr, trusted);
t.teardown(() => raw.close());
const encodeRegister = (maxJobs: number): Buffer =>
  Buffer.from(schedulerDefinition().work.requestSerialize({
    msg: 'register',
    register: { name: 'fake', maxJobs, canLink: true, compilers: [], memoryTotalBytes: 0, memoryFreeBytes: 0, fsMount: mount, version: '0', protocolVersion: 'PROTOCOL_VERSION_1', hostname: 'x', runningAttempts: [], acceptsBatches: false },
  }));
let cases = 0;
/** A job of the fake compiler (it sleeps 0 s, then writes its -o). */
const cc = (...args: string[]): string[] => [FAKE_CC, '0', ...args];

t.test('connections and calls that are refused with a gRPC status', async (t) => {
  const statusWith = async (creds: ReturnType<typeof credentials.createInsecure>, token: string | undefined) => {
    const c = rawClient(farm.addr, creds);
    try {
      return await rawCall(c, GET_STATUS, [Buffer.alloc(0)], tokenMetadata(token), 3000);
    } finally {
      c.close();
    }
  };
  const transport: Array<[string, () => Promise<{ code: number; details: string }>, number, RegExp]> = [
    ['no token', () => rawCall(raw, GET_STATUS, [Buffer.alloc(0)], tokenMetadata(undefined)), GrpcStatus.UNAUTHENTICATED, /no token: set DISTBUILD_TOKEN/],
    ['a wrong token', () => rawCall(raw, GET_STATUS, [Buffer.alloc(0)], tokenMetadata('guess')), GrpcStatus.UNAUTHENTICATED, /not one this server accepts \(setting token/],
    ['a client certificate of another CA', () => statusWith(credentials.createSsl(pem(certs, CERT_FILES.ca), pem(rogue, CERT_FILES.clientKey), pem(rogue, CERT_FILES.client)), TOKEN),
      GrpcStatus.UNAVAILABLE, /No connection established/],
    ['no client certificate', () => statusWith(credentials.createSsl(pem(certs, CERT_FILES.ca)), TOKEN), GrpcStatus.UNAVAILABLE, /alert certificate required/],
    ['a server certificate the client does not trust', () => statusWith(credentials.createSsl(pem(rogue, CERT_FILES.ca), pem(certs, CERT_FILES.clientKey), pem(certs, CERT_FILES.client)), TOKEN),
      GrpcStatus.UNAVAILABLE, /certificate signature failure|unable to verify|self.signed/],
    ['plain text to the TLS port', () => statusWith(credentials.createInsecure(), TOKEN), GrpcStatus.UNAVAILABLE, /No connection established/],
    ['a fake worker registration without a token', () => rawCall(raw, WORK, [encodeRegister(64)], tokenMetadata(undefined)), GrpcStatus.UNAUTHENTICATED, /no token/],
    ['a worker whose first message is not a registration', () => rawCall(raw, WORK, [Buffer.from(schedulerDefinition().work.requestSerialize({ msg: 'renew', renew: { attemptIds: ['x'] } }))], tokenMetadata(TOKEN)),
      GrpcStatus.FAILED_PRECONDITION, /first message must be "register", not "renew"/],
    ['a registration with 0 slots', () => rawCall(raw, WORK, [encodeRegister(0)], tokenMetadata(TOKEN)), GrpcStatus.INVALID_ARGUMENT, /invalid worker registration: name "fake", max_jobs 0/],
    ['malformed protobuf bytes to SubmitJobs', () => rawCall(raw, SUBMIT_JOBS, [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])], tokenMetadata(TOKEN)), GrpcStatus.INTERNAL, /deserializ/i],
    ['malformed protobuf bytes to GetStatus', () => rawCall(raw, GET_STATUS, [Buffer.from([0xff, 0xff, 0xff])], tokenMetadata(TOKEN)), GrpcStatus.INTERNAL, /deserializ/i],
    ['malformed protobuf bytes on the Work stream', () => rawCall(raw, WORK, [Buffer.from([0x0a, 0x05, 0x01])], tokenMetadata(TOKEN)), GrpcStatus.INTERNAL, /deserializ/i],
    ['a message over max_message_bytes', () => rawCall(raw, SUBMIT_JOBS, [Buffer.alloc(2 * 1024 * 1024, 0x41)], tokenMetadata(TOKEN)), GrpcStatus.RESOURCE_EXHAUSTED, /larger than max \(\d+ vs\.? 1048576\)/],
  ];
  for (const [name, run, code, why] of transport) {
    const r = await run();
    t.equal(r.code, code, `${name}: ${GrpcStatus[code]} (got ${GrpcStatus[r.code]}: ${r.details})`);
    t.match(r.details, why, name);
    cases++;
  }
  t.same((await farm.status()).workers.map((w) => w.name), ['w1'], 'no fake worker got registered');
});

t.test('TLS: a client certificate of another CA or none gets not one byte of HTTP/2', async (t) => {
  /** What a raw TLS connection presenting `cert` gets: its first error's code, and the bytes the server sent. */
  const probe = (cert: { cert: Buffer; key: Buffer } | Record<string, never>): Promise<{ error: string | undefined; bytes: number }> =>
    new Promise((resolve) => {
      let bytes = 0;
      let error: string | undefined;
      const socket = tls.connect({ host: '127.0.0.1', port: farm.port, ca: pem(certs, CERT_FILES.ca), servername: 'localhost', ALPNProtocols: ['h2'], ...cert });
      // A trusted client is sent the server's HTTP/2 SETTINGS frame at once; then we hang up.
      socket.on('data', (d: Buffer) => {
        bytes += d.length;
        socket.destroy();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        error = err.code;
      });
      socket.once('close', () => resolve({ error, bytes }));
    });
  const good = await probe({ cert: pem(certs, CERT_FILES.client), key: pem(certs, CERT_FILES.clientKey) });
  t.ok(good.bytes > 0, 'a trusted client certificate is served');
  const other = await probe({ cert: pem(rogue, CERT_FILES.client), key: pem(rogue, CERT_FILES.clientKey) });
  t.same(other, { error: undefined, bytes: 0 }, 'a certificate of another CA: closed right after the handshake');
  cases++;
  const none = await probe({});
  t.equal(none.error, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'no certificate: the TLS alert "certificate required"');
  t.equal(none.bytes, 0);
  cases++;
});

t.test('submissions the server refuses as a whole', async (t) => {
  const job = (id: string): Job => ({ id, kind: 'JOB_KIND_COMPILE', argv: [FAKE_CC, '0', '-c', 'a.c'], cwd: 'w', clientMount: mount, env: {}, dirs: [], timeoutMs: 0, client: 'test', outputs: [], compiler: '', cacheStore: false });
  const refused: Array<[string, Job[], Status, RegExp]> = [
    ['an empty batch', [], Status.INVALID_ARGUMENT, /needs at least one job/],
    ['a batch over the server limit', Array.from({ length: 1001 }, (_, i) => job(`big-${i}`)), Status.INVALID_ARGUMENT, /a batch of 1001 jobs exceeds the server's limit of 1000/],
    ['more jobs in flight than max_jobs_per_client', Array.from({ length: 9 }, (_, i) => job(`flood-${i}`)), Status.RESOURCE_EXHAUSTED, /9 more would exceed the server's limit of 8 \(setting max_jobs_per_client\)/],
  ];
  for (const [name, batch, code, why] of refused) {
    const err = await (async () => {
      for await (const m of jobs.client.submitJobs({ jobs: batch, protocolVersion: 'PROTOCOL_VERSION_1' })) void m;
    })().then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof ClientError, name);
    t.equal((err as ClientError).code, code, `${name}: ${Status[code]}`);
    t.match((err as ClientError).details, why, name);
    cases++;
  }
});

t.test('hostile jobs are refused as invalid jobs, naming the problem', async (t) => {
  const table: Array<[string, string[], RegExp, Partial<Job>?]> = [
    // Checked by the server at submission
    ['100,000 arguments', cc(...Array.from({ length: 100_000 }, () => '-DX')), /100002 arguments, more than this server's limit of 1000 \(setting max_job_args\)/],
    ['one argument over max_arg_bytes', cc('-c', `-DX=${'y'.repeat(5000)}`), /argument 3 .* is 5004 bytes long, more than this server's limit of 4096 \(setting max_arg_bytes\)/],
    ['an empty command line', [], /empty command line/],
    ['no job id', cc('-c', 'a.c'), /the job has no id/, { id: '' }],
    ['an unknown job kind', cc('-c', 'a.c'), /JOB_KIND_UNSPECIFIED is not COMPILE or LINK/, { kind: 'JOB_KIND_UNSPECIFIED' }],
    ['cwd=/etc', cc('-c', 'a.c'), /the cwd "\/etc" is not relative to the mount/, { cwd: '/etc' }],
    ['a relative client mount', cc('-c', 'a.c'), /client mount "mnt" is not an absolute path/, { clientMount: 'mnt' }],
    // Checked by the worker
    ['more arguments than the worker allows', cc('-c', 'a.c', ...Array.from({ length: 60 }, () => '-DX')), /64 arguments, more than this worker's limit of 50 \(setting max_job_args\)/],
    ['cwd ../../etc', cc('-c', 'a.c'), /lies outside the mount/, { cwd: '../../etc' }],
    ['cwd through a symlink', cc('-c', 'a.c'), /the working directory .*link resolves to .*outside, outside the mount/, { cwd: 'w/link' }],
    ['-o ../../escape', cc('-c', 'a.c', '-o', '../../escape.o'), /the output \.\.\/\.\.\/escape\.o resolves to .*escape\.o, outside the mount/],
    ['-o through a symlink', cc('-c', 'a.c', '-o', 'link/x.o'), /the output link\/x\.o resolves to .*outside\/x\.o, outside the mount/],
    ['-o an absolute path outside', cc('-c', 'a.c', '-o', `${outside}/abs.o`), /resolves to .*abs\.o, outside the mount/],
    ['-oFILE outside', cc('-c', 'a.c', `-o${outside}/joined.o`), /joined\.o, outside the mount/],
    ['-MF outside', cc('-c', 'a.c', '-o', 'sub/a.o', '-MD', '-MF', '../../escape.d'), /escape\.d, outside the mount/],
    ['-MF through a symlink', cc('-c', 'a.c', '-o', 'sub/a.o', '-MD', '-MF', 'link/x.d'), /x\.d, outside the mount/],
    ['-Wl,-Map= outside', [FAKE_CC, '0', 'a.o', '-o', 'sub/app', `-Wl,-Map=${outside}/app.map`], /app\.map, outside the mount/, { kind: 'JOB_KIND_LINK' }],
    ['-Wl,--out-implib outside', [FAKE_CC, '0', 'a.o', '-o', 'sub/app', `-Wl,--out-implib=${outside}/app.lib`], /app\.lib, outside the mount/, { kind: 'JOB_KIND_LINK' }],
    ['/bin/sh writing the canary', ['/bin/sh', '-c', `touch ${CANARY}`], /"\/bin\/sh" .* is not on this worker's allowlist \(setting compiler_allowlist\)/],
    ['python3', ['python3', '-c', 'print(1)'], /"python3".* is not on this worker's allowlist/],
    ['a symlink in the mount to /bin/sh', ['./cc', '-c', `touch ${CANARY}`], /"\.\/cc" \(\/(usr\/)?bin\/(da|ba)?sh\) is not on this worker's allowlist/],
    ['-fplugin=', cc('-c', 'a.c', '-fplugin=/tmp/evil.so'), /the option "-fplugin=\/tmp\/evil\.so" loads code into the compiler; this worker does not allow -fplugin \(setting allow_flags\)/],
    ['-fplugin-arg-', cc('-c', 'a.c', '-fplugin-arg-evil-x=1'), /-fplugin.*\(setting allow_flags\)/],
    ['-specs=', cc('-specs=/tmp/evil.specs', '-c', 'a.c'), /"-specs=\/tmp\/evil\.specs".*allow_flags/],
    ['--specs', cc('--specs=/tmp/evil.specs', '-c', 'a.c'), /allow_flags/],
    ['-B', cc('-B/tmp/evil/', '-c', 'a.c'), /"-B\/tmp\/evil\/".*allow_flags/],
    ['-wrapper', cc('-wrapper', '/bin/sh,-c', '-c', 'a.c'), /the option "-wrapper \/bin\/sh,-c" loads code.*does not allow -wrapper \(setting allow_flags\)/],
    // Response files
    ['a response file outside the mount', cc('@/etc/passwd'), /the response file @\/etc\/passwd resolves to \/etc\/passwd, outside the mount/],
    ['a response file through a symlink', cc('@link/evil.rsp'), /the response file @link\/evil\.rsp resolves to .*outside\/evil\.rsp, outside the mount/],
    ['a response file naming one outside', cc('-c', 'a.c', '@nested.rsp'), /@\/etc\/passwd resolves to \/etc\/passwd, outside the mount/],
    ['-o ../../escape inside a response file', cc('@escape.rsp'), /escape\.o, outside the mount/],
    ['a quoted escape inside a response file', cc('@quoted.rsp'), /quoted escape\.o, outside the mount/],
    ['-fplugin= inside a response file', cc('-c', 'a.c', '@plugin.rsp'), /-fplugin=\/tmp\/evil\.so.*allow_flags/],
    ['-Wl,-Map= outside inside a response file', [FAKE_CC, '0', 'a.o', '-o', 'sub/app', '@map.rsp'], /out\.map, outside the mount/, { kind: 'JOB_KIND_LINK' }],
    // Confinement follows symlinks before `..`, and through a final symlink
    ['-o link/../x.o (inside as text, outside through the symlink)', cc('-c', 'a.c', '-o', 'link/../x.o'), /the output link\/\.\.\/x\.o resolves to .*distbuild-hostile-[^/]*\/x\.o, outside the mount/],
    ['-MF link/../x.d', cc('-c', 'a.c', '-o', 'sub/a.o', '-MD', '-MF', 'link/../x.d'), /x\.d, outside the mount/],
    ['-o a dangling symlink to outside', cc('-c', 'a.c', '-o', 'dangle.o'), /the output dangle\.o is a symlink to a file that does not exist/],
    ['ar writing through a symlink to outside', ['ar', 'qc', 'lnk.a', 'a.c'], /the output lnk\.a resolves to .*outside\/lib\.a, outside the mount/, { kind: 'JOB_KIND_LINK' }],
    ['-o the mount itself', cc('-c', 'a.c', '-o', '..'), /the output \.\. (does not name a file|resolves to .*, outside the mount)/],
    // Executables on the mount
    ['an allowlisted compiler on the shared mount', ['./mycc.sh', '0', '-c', 'a.c'], /"\.\/mycc\.sh" \(.*mycc\.sh\) is not on this worker's allowlist, which is on the shared mount .*\(setting allow_mount_executables\)/],
    ['a response file over the worker argument cap', cc('-c', 'a.c', '@many.rsp'), /with its response files expanded, the command line has 64 arguments, more than this worker's limit of 50 \(setting max_job_args\)/],
  ];
  for (const [name, argv, why, over] of table) {
    const r = await jobs.submit(argv, over);
    t.equal(r.outcome, 'OUTCOME_REJECTED', `${name}: refused (${r.message})`);
    t.equal(r.failure, 'FAILURE_KIND_INVALID_JOB', name);
    t.match(r.message, why, name);
    cases++;
  }
});

t.test('every spelling of code loading and of writing elsewhere is refused, naming it', async (t) => {
  const o = `${outside}/x`;
  const loads: Array<[string[], string]> = [
    [['--prefix=/tmp/evil/'], '-B'], [['--prefix', '/tmp/evil/'], '-B'], [['-B', '/tmp/evil/'], '-B'],
    [['-Wl,-plugin,/tmp/evil.so'], '-Wl,-plugin'], [['-Wl,--plugin=/tmp/evil.so'], '-Wl,-plugin'], [['-Xlinker', '-plugin', '-Xlinker', '/tmp/evil.so'], '-Wl,-plugin'],
    [['-fpass-plugin=/tmp/evil.so'], '-fpass-plugin'], [['-Xclang', '-load', '-Xclang', '/tmp/evil.so'], '-Xclang -load'], [['-Xclang', '-plugin', '-Xclang', 'evil'], '-Xclang -plugin'],
    [['--ld-path=/tmp/evil-ld'], '--ld-path'], [['-fuse-ld=/tmp/evil-ld'], '-fuse-ld'], [['-specs', '/tmp/evil.specs'], '-specs'],
    [['-fplugin-arg-evil-key=1'], '-fplugin'], [['-iplugindir=/tmp/evil'], '-iplugindir'], [['-fmodule-mapper=|/tmp/evil'], '-fmodule-mapper'],
    [['--gcc-toolchain=/tmp/evil'], '--gcc-toolchain'], [['-fcompare-debug=-fplugin=/tmp/evil.so'], '-fcompare-debug'],
  ];
  for (const [flags, option] of loads) {
    const r = await jobs.submit(cc('-c', 'a.c', '-o', 'sub/l.o', ...flags));
    t.equal(r.failure, 'FAILURE_KIND_INVALID_JOB', `${flags.join(' ')}: refused (${r.message})`);
    t.ok(r.message.includes(`does not allow ${option} (setting allow_flags)`), `${flags.join(' ')}: names ${option} and allow_flags`);
    cases++;
  }
  const writes: string[][] = [
    [`--output=${o}.o`], ['--output', `${o}.o`], ['-dumpdir', `${outside}/`], ['-aux-info', `${o}.aux`], [`-fdump-tree-all=${o}.dump`],
    [`-fopt-info-all=${o}.opt`], ['-Xlinker', `-Map=${o}.map`], ['-Xlinker', '-Map', '-Xlinker', `${o}.map`], [`-Wl,-Map,${o}.map`],
    [`-Wl,--dependency-file=${o}.dep`], [`-Wp,-MD,${o}.d`], [`-Wp,-MMD,${o}.d`], ['-MJ', `${o}.json`], ['--serialize-diagnostics', `${o}.dia`],
    [`-Wa,-adhln=${o}.lst`], [`-Wa,--MD,${o}.d`], [`-ftime-trace=${o}.json`], [`-fcrash-diagnostics-dir=${outside}`], [`-fmodules-cache-path=${outside}`],
  ];
  for (const flags of writes) {
    const r = await jobs.submit(cc('-c', 'a.c', '-o', 'sub/w.o', ...flags));
    t.equal(r.failure, 'FAILURE_KIND_INVALID_JOB', `${flags.join(' ')}: refused (${r.message})`);
    t.match(r.message, /resolves to .*outside.*, outside the mount/, `${flags.join(' ')}: names the escape`);
    cases++;
  }
  const arOut = await jobs.submit(['ar', 'x', '--output', outside, 'sub/lib.a'], { kind: 'JOB_KIND_LINK' });
  t.match(arOut.message, /outside, outside the mount/, 'ar --output outside the mount');
  const arPlugin = await jobs.submit(['ar', '--plugin', '/tmp/evil.so', 'qc', 'sub/lib.a', 'a.c'], { kind: 'JOB_KIND_LINK' });
  t.match(arPlugin.message, /does not allow ar --plugin \(setting allow_flags\)/, 'ar --plugin');
  const unknown = await jobs.submit(cc('-c', 'a.c', '-fno-such-thing=1'));
  t.match(unknown.message, /the option "-fno-such-thing=1" is not one this worker knows; if it is safe, add -fno-such-thing to allow_flags/, 'an unknown option');
  cases += 3;
});

t.test('what this worker lacks is a worker failure: retried elsewhere, then built by the client', async (t) => {
  const table: Array<[string, string[], RegExp, Partial<Job>?]> = [
    ['a cwd that does not exist here', cc('-c', 'a.c'), /working directory .*nope does not exist on this worker/, { cwd: 'w/nope' }],
    ['a compiler not installed here', ['./nope-cc', '-c', 'a.c'], /the executable "\.\/nope-cc" is not installed on this worker/],
    ['a response file not visible here', cc('-c', 'a.c', '@nope.rsp'), /the response file @nope\.rsp does not exist on this worker/],
    ['an output directory not visible here', cc('-c', 'a.c', '-o', 'nodir/a.o'), /the output nodir\/a\.o is in a directory that does not exist on this worker/],
  ];
  for (const [name, argv, why, over] of table) {
    const r = await jobs.submit(argv, over);
    t.equal(r.outcome, 'OUTCOME_FAILED', `${name}: failed (${r.message})`);
    t.equal(r.failure, 'FAILURE_KIND_WORKER_UNFIT', `${name}: the worker is unfit for it, not the job invalid`);
    t.match(r.message, why, name);
    cases++;
  }
});

t.test('loader variables in the env never reach the job', async (t) => {
  const env = { LD_PRELOAD: '/tmp/evil.so', LD_AUDIT: '/tmp/a.so', GCONV_PATH: '/tmp', BASH_ENV: '/tmp/x', LANG: 'C.UTF-8', DEPENDENCIES_OUTPUT: `${CANARY} x.o`, SUNPRO_DEPENDENCIES: `${CANARY} x.o` };
  const r = await jobs.submit([PRINT_ENV, '-c', 'x.c'], { env });
  t.equal(r.outcome, 'OUTCOME_COMPLETED');
  t.notMatch(Buffer.from(r.stdout).toString(), /LD_PRELOAD|LD_AUDIT|GCONV_PATH|BASH_ENV|DEPENDENCIES_OUTPUT|SUNPRO_DEPENDENCIES/);
  t.match(Buffer.from(r.stdout).toString(), /^LANG=C\.UTF-8$/m);
  cases++;
});

/** Runs `script` in a loop in its own process group until the returned function is called. */
function swapLoop(script: string): () => Promise<void> {
  const child = spawn('bash', ['-c', `while :; do ${script}; done`], { cwd: work, stdio: 'ignore', detached: true });
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    await exited;
  };
}

t.test('time-of-check races: what was checked is what runs', async (t) => {
  // The symlink flips between an allowlisted compiler and a script outside the mount.
  let stop = swapLoop(`ln -sfn ${FAKE_CC} swap-cc; ln -sfn ${path.join(outside, 'evil.sh')} swap-cc`);
  let ran = 0;
  let refused = 0;
  for (let i = 0; i < 60; i++) {
    const r = await jobs.submit(['./swap-cc', '0', '-c', 'a.c', '-o', `sub/swap-${i}.o`]);
    if (r.outcome === 'OUTCOME_COMPLETED') ran++;
    else if (r.failure === 'FAILURE_KIND_INVALID_JOB' && /evil\.sh\) is not on this worker's allowlist/.test(r.message)) refused++;
    else t.fail(`unexpected: ${r.outcome} ${r.message}`);
  }
  await stop();
  t.equal(ran + refused, 60, `a symlinked compiler swapped under the worker: ${ran} ran the checked compiler, ${refused} refused`);
  t.notOk(existsSync(CANARY), 'the script was never run');
  cases++;
  // The response file flips between a plain compile and one that escapes the mount or loads a plugin.
  stop = swapLoop(`printf '%s\\n' '-c a.c -o ../../swap-escape.o' > swap.tmp && mv swap.tmp swap.rsp; printf '%s\\n' '-fplugin=${path.join(outside, 'x.so')} -c a.c' > swap.tmp && mv swap.tmp swap.rsp; printf '%s\\n' '-c a.c -o sub/swap.o' > swap.tmp && mv swap.tmp swap.rsp`);
  let good = 0;
  let bad = 0;
  for (let i = 0; i < 60; i++) {
    const r = await jobs.submit([FAKE_CC, '0', '@swap.rsp']);
    if (r.outcome === 'OUTCOME_COMPLETED') good++;
    else if (r.failure === 'FAILURE_KIND_INVALID_JOB' && /swap-escape\.o, outside the mount|-fplugin=.*allow_flags/.test(r.message)) bad++;
    else t.fail(`unexpected: ${r.outcome} ${r.message}`);
  }
  await stop();
  t.equal(good + bad, 60, `a response file rewritten under the worker: ${good} ran what was checked, ${bad} refused`);
  t.notOk(existsSync(path.join(tmp, 'swap-escape.o')), 'the escaping output was never written');
  cases++;
});

t.test('garbage on the port: random bytes and HTTP/1.1 over plain TCP', async (t) => {
  for (const bytes of [Buffer.from(Array.from({ length: 4096 }, () => Math.floor(Math.random() * 256))), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
    const socket = net.connect(farm.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(bytes);
    await closed;
    t.pass('the server closed the connection');
    cases++;
  }
});

t.test('after all that: nothing escaped, and the farm serves the next good job', async (t) => {
  t.notOk(existsSync(CANARY), 'the canary outside the mount was never written');
  t.same(readdirSync(outside).sort(), ['evil.rsp', 'evil.sh', 'lib.a'], 'nothing was written outside the mount');
  t.equal(readFileSync(path.join(outside, 'lib.a'), 'utf8'), '!<arch>\n', 'the archive behind a symlink is untouched');
  t.notOk(existsSync(path.join(tmp, 'escape.o')));
  t.notOk(existsSync(path.join(tmp, 'quoted escape.o')));
  t.equal(farm.server.exitCode, null, 'the server is still running');
  t.equal(farm.workers.get('w1')?.exitCode, null, 'the worker is still running');
  const r = await jobs.submit([FAKE_CC, '0', '-c', 'a.c', '-o', 'sub/a.o']);
  t.equal(r.outcome, 'OUTCOME_COMPLETED');
  t.equal(r.exitCode, 0);
  t.ok(existsSync(path.join(work, 'sub', 'a.o')), 'the good job wrote its output');
  const s = await farm.status();
  t.equal(s.workers[0]?.circuit, 'closed', 'refusals are not held against the worker');
  t.ok(cases >= 80, `${cases} hostile cases`);
  t.comment(`${cases} hostile or malformed requests refused`);
});
