// The flag policy: code-loading and unknown options refused, every written path reported, real builds accepted; and a fuzz test.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { checkFlags, toolFamily, type FlagVerdict, type WrittenPath } from '../src/common/flag-policy.js';
import { seededRandom } from './helpers/random.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CC = 'gcc';

const writesOf = (v: FlagVerdict): readonly WrittenPath[] => (v.type === 'ok' ? v.writes : []);
const describe = (v: FlagVerdict): string => (v.type === 'ok' ? 'ok' : v.reason);

/** Every code-loading spelling, with the option allow_flags names. */
const LOADS: ReadonlyArray<readonly [readonly string[], string]> = [
  [[CC, '-fplugin=/tmp/evil.so'], '-fplugin'],
  [[CC, '-fplugin-arg-evil-key=1'], '-fplugin'],
  [[CC, '-fpass-plugin=/tmp/p.so'], '-fpass-plugin'],
  [[CC, '-specs=/tmp/evil.specs'], '-specs'],
  [[CC, '--specs=/tmp/evil.specs'], '-specs'],
  [[CC, '-specs', '/tmp/evil.specs'], '-specs'],
  [[CC, '-B/tmp/evil/'], '-B'],
  [[CC, '-B', '/tmp/evil/'], '-B'],
  [[CC, '--prefix=/tmp/evil/'], '-B'],
  [[CC, '--prefix', '/tmp/evil/'], '-B'],
  [[CC, '-wrapper', '/bin/sh,-c'], '-wrapper'],
  [[CC, '--ld-path=/tmp/ld'], '--ld-path'],
  [[CC, '-fuse-ld=/tmp/evil/ld'], '-fuse-ld'],
  [[CC, '-iplugindir=/tmp/plugins'], '-iplugindir'],
  [[CC, '-fmodule-mapper=|/tmp/mapper'], '-fmodule-mapper'],
  [[CC, '--gcc-toolchain=/tmp/tc'], '--gcc-toolchain'],
  [[CC, '-gcc-toolchain', '/tmp/tc'], '--gcc-toolchain'],
  [[CC, '-Xclang', '-load', '-Xclang', '/tmp/p.so'], '-Xclang -load'],
  [[CC, '-Xclang', '-plugin', '-Xclang', 'evil'], '-Xclang -plugin'],
  [[CC, '-Xclang', '-add-plugin', '-Xclang', 'evil'], '-Xclang -add-plugin'],
  [[CC, '-Xclang', '-plugin-arg-evil', '-Xclang', 'x'], '-Xclang -plugin-arg'],
  [[CC, '-Xclang', '-load-pass-plugin', '-Xclang', '/tmp/p.so'], '-Xclang -load-pass-plugin'],
  [[CC, '-Wl,-plugin,/tmp/p.so'], '-Wl,-plugin'],
  [[CC, '-Wl,--plugin=/tmp/p.so'], '-Wl,-plugin'],
  [[CC, '-Wl,-plugin-opt=-foo'], '-Wl,-plugin'],
  [[CC, '-Wl,--plugin-opt=O3'], '-Wl,-plugin'],
  [[CC, '-Xlinker', '-plugin', '-Xlinker', '/tmp/p.so'], '-Wl,-plugin'],
  [[CC, '-fcompare-debug=-fplugin=/tmp/evil.so'], '-fcompare-debug'],
  [[CC, '-Xarch_x86_64', '-fplugin=/tmp/evil.so'], '-fplugin'],
  [['ar', '--plugin', '/tmp/p.so', 'rcs', 'lib.a', 'a.o'], 'ar --plugin'],
  [['ar', 'rcs', '--plugin=/tmp/p.so', 'lib.a', 'a.o'], 'ar --plugin'],
  [['ranlib', '--plugin', '/tmp/p.so', 'lib.a'], 'ranlib --plugin'],
  [['ld', '-plugin', '/tmp/p.so', 'a.o'], 'ld -plugin'],
  [['ld.gold', '--plugin=/tmp/p.so', 'a.o'], 'ld -plugin'],
  [['ld.bfd', '-plugin-opt=x', 'a.o'], 'ld -plugin'],
];

t.test('every code-loading spelling is refused, naming its option; allowed when allow_flags has it', async (t) => {
  for (const [argv, option] of LOADS) {
    const v = checkFlags(argv, []);
    t.equal(v.type, 'refused', `${argv.join(' ')}: refused`);
    if (v.type !== 'refused') continue;
    t.equal(v.option, option, `${argv.join(' ')}: option ${option}`);
    t.match(v.reason, new RegExp(`^the option ".+" loads code into the \\w+; this worker does not allow ${option.replace(/[$^.*+?()[\]{}|\\-]/g, '\\$&')} \\(setting allow_flags\\)$`));
    t.equal(checkFlags(argv, [option]).type, 'ok', `${argv.join(' ')}: ok with allow_flags ${option}`);
    t.equal(checkFlags(argv, ['-something-else']).type, 'refused', `${argv.join(' ')}: another allow_flags entry does not do`);
  }
  t.equal(describe(checkFlags([CC, '-fplugin=/tmp/evil.so', '-c', 'a.c'], [])),
    'the option "-fplugin=/tmp/evil.so" loads code into the compiler; this worker does not allow -fplugin (setting allow_flags)');
  t.equal(checkFlags([CC, '-fuse-ld=lld', '-fuse-ld=gold', '-fuse-ld=bfd', '-fuse-ld=mold'], []).type, 'ok', '-fuse-ld=NAME is safe');
  t.equal(checkFlags([CC, '-fcompare-debug', '-c', 'a.c'], []).type, 'ok', '-fcompare-debug without a value only adds -gtoggle');
  const allowed = checkFlags([CC, '-specs=/mnt/m/x.specs', '-c', 'a.c'], ['-specs']);
  t.same(allowed.type === 'ok' ? allowed.reads : [], [{ arg: '-specs=/mnt/m/x.specs', path: '/mnt/m/x.specs' }], 'an allowed one is listed as a read');
});

/** Every writing spelling, and the path it writes. */
const WRITES: ReadonlyArray<readonly [readonly string[], string, string?]> = [
  [[CC, '-o', 'out.o'], 'out.o', '-o out.o'],
  [[CC, '-oout.o'], 'out.o', '-oout.o'],
  [[CC, '-MF', 'x.d'], 'x.d', '-MF x.d'],
  [[CC, '-MFx.d'], 'x.d'],
  [[CC, '-MJ', 'x.json'], 'x.json'],
  [[CC, '--serialize-diagnostics', 'x.dia'], 'x.dia'],
  [[CC, '-aux-info', 'x.aux'], 'x.aux'],
  [[CC, '-dumpdir', 'dumps/'], 'dumps/'],
  [[CC, '-dumpbase', '/etc/x'], '/etc/x'],
  [[CC, '--output=out.o'], 'out.o'],
  [[CC, '--output', 'out.o'], 'out.o'],
  [[CC, '-fdump-tree-all=/etc/dump'], '/etc/dump'],
  [[CC, '-fdump-rtl-expand-details=x.txt'], 'x.txt'],
  [[CC, '-fopt-info-vec-missed=x.txt'], 'x.txt'],
  [[CC, '-fprofile-note=x.gcno'], 'x.gcno'],
  [[CC, '-fcrash-diagnostics-dir=/tmp/crash'], '/tmp/crash'],
  [[CC, '-ftime-trace=t.json'], 't.json'],
  [[CC, '-fmodules-cache-path=/tmp/mc'], '/tmp/mc'],
  [[CC, '-fmodule-output=x.pcm'], 'x.pcm'],
  [[CC, '-foptimization-record-file=x.yaml'], 'x.yaml'],
  [[CC, '-fproc-stat-report=x.txt'], 'x.txt'],
  [[CC, 'a.o', '-Wl,-Map=out.map'], 'out.map', '-Wl,-Map=out.map'],
  [[CC, 'a.o', '-Wl,-Map,out.map'], 'out.map', '-Wl,-Map,out.map'],
  [[CC, 'a.o', '-Wl,--Map=out.map'], 'out.map'],
  [[CC, 'a.o', '-Wl,-Map', '-Wl,out.map'], 'out.map', '-Wl,-Map -Wl,out.map'],
  [[CC, 'a.o', '-Xlinker', '-Map', '-Xlinker', 'out.map'], 'out.map', '-Xlinker -Map -Xlinker out.map'],
  [[CC, 'a.o', '-Xlinker', '-Map=out.map'], 'out.map', '-Xlinker -Map=out.map'],
  [[CC, 'a.o', '-Wl,--dependency-file=x.d'], 'x.d'],
  [[CC, 'a.o', '-Wl,--out-implib=x.lib'], 'x.lib'],
  [[CC, 'a.o', '-Wl,-o,app'], 'app'],
  [[CC, '-Wp,-MD,x.d'], 'x.d', '-Wp,-MD,x.d'],
  [[CC, '-Wp,-MMD,x.d'], 'x.d'],
  [[CC, '-Wp,-MF,x.d'], 'x.d'],
  [[CC, '-Xpreprocessor', '-MD', '-Xpreprocessor', 'x.d'], 'x.d'],
  [[CC, '-Wa,-adhln=x.lst'], 'x.lst'],
  [[CC, '-Wa,-al=x.lst'], 'x.lst'],
  [[CC, '-Wa,--MD,x.d'], 'x.d'],
  [[CC, '-Xassembler', '--MD', '-Xassembler', 'x.d'], 'x.d'],
  [['ar', 'x', 'lib.a', '--output', '/tmp/dir'], '/tmp/dir', '--output /tmp/dir'],
  [['ar', 'x', '--output=/tmp/dir', 'lib.a'], '/tmp/dir'],
  [['ld', '-o', 'app', 'a.o'], 'app', '-o app'],
  [['ld', '--output=app', 'a.o'], 'app'],
  [['ld', '--output', 'app', 'a.o'], 'app'],
  [['ld.lld', '-Map', 'app.map', 'a.o'], 'app.map'],
  [['mold', '--dependency-file', 'app.d', 'a.o'], 'app.d'],
  [['ld', '--out-implib=app.lib', 'a.o'], 'app.lib'],
];

t.test('every writing spelling appears in writes with its path', async (t) => {
  for (const [argv, path, arg] of WRITES) {
    const v = checkFlags(argv, []);
    t.equal(v.type, 'ok', `${argv.join(' ')}: ${describe(v)}`);
    const w = writesOf(v);
    t.ok(w.some((x) => x.path === path), `${argv.join(' ')} writes ${path}`);
    if (arg !== undefined) t.same(w, [{ arg, path }], `${argv.join(' ')}: named "${arg}"`);
  }
  t.same(writesOf(checkFlags([CC, '-fdump-tree-all=stdout', '-fopt-info=stderr', '-fdump-tree-all', '-Wa,-adhln'], [])), [], 'stdout, stderr and the default names are no writes');
  const cmake = checkFlags(['/usr/bin/cc', '-O2', '-MD', '-MT', 'a.o', '-MF', 'a.o.d', '-o', 'a.o', '-c', 'a.c'], []);
  t.same(writesOf(cmake), [{ arg: '-MF a.o.d', path: 'a.o.d' }, { arg: '-o a.o', path: 'a.o' }]);
});

t.test('reads are listed', async (t) => {
  const v = checkFlags([CC, '-I', 'inc', '-Isrc', '-include', 'config.h', '--sysroot=/sys', '-L/lib', '-T', 'x.ld', '-Wl,--version-script=v.map',
    '-fsanitize-ignorelist=ign.txt', '-fprofile-use=prof', '-Xclang', '-include-pch', '-Xclang', 'p.pch', 'a.c'], []);
  t.same(v.type === 'ok' ? v.reads.map((r) => r.path) : [], ['inc', 'src', 'config.h', '/sys', '/lib', 'x.ld', 'v.map', 'ign.txt', 'prof', 'p.pch']);
});

t.test('unknown options are refused, naming allow_flags; accepted when listed there', async (t) => {
  t.equal(describe(checkFlags([CC, '-fxyz=1'], [])), 'the option "-fxyz=1" is not one this worker knows; if it is safe, add -fxyz to allow_flags');
  t.equal(checkFlags([CC, '-fxyz=anything/at/all'], ['-fxyz']).type, 'ok', 'allowed: its value is not checked');
  const cases: ReadonlyArray<readonly [readonly string[], string]> = [
    [[CC, '-fmodules'], '-fmodules'],
    [[CC, '--bogus'], '--bogus'],
    [[CC, '--pref=/tmp/x'], '--pref'],
    [[CC, '-Wl'], '-Wl'],
    [[CC, '-Wl,--bogus=1'], '-Wl,--bogus'],
    [[CC, '-Wl,-error-handling-script=/tmp/x.sh'], '-Wl,-error-handling-script'],
    [[CC, '-Wl,--gc-sec'], '-Wl,--gc-sec'],
    [[CC, '-Wp,-o,/tmp/x'], '-Wp,-o'],
    [[CC, '-Wa,-o,/tmp/x'], '-Wa,-o'],
    [[CC, '-Xclang', '-dependency-file', '-Xclang', 'x'], '-Xclang -dependency-file'],
    [[CC, '-mllvm', '-stats-file=x'], '-mllvm -stats-file'],
    [[CC, '-mllvm', '-info-output-file=x'], '-mllvm -info-output-file'],
    [[CC, '-mllvm', '-foo=/tmp/x'], '-mllvm -foo'],
    [[CC, '-lto-obj-path=/etc/x'], '-lto-obj-path'],
    [[CC, '-fdiagnostics-add-output=sarif:file=/etc/x'], '-fdiagnostics-add-output'],
    [[CC, '-gen-cdb-fragment-path', '/tmp'], '-gen-cdb-fragment-path'],
    [[CC, '-module-dependency-dir', '/tmp'], '-module-dependency-dir'],
    [[CC, '-working-directory', '/tmp'], '-working-directory'],
    [[CC, '--config', '/tmp/x.cfg'], '--config'],
    [['ld', '--why-extract=/tmp/x', 'a.o'], 'ld --why-extract'],
    [['ar', '--record-libdeps=x', 'rcs', 'l.a'], 'ar --record-libdeps'],
  ];
  for (const [argv, option] of cases) {
    const v = checkFlags(argv, []);
    t.equal(v.type === 'refused' ? v.option : 'ok', option, `${argv.join(' ')} names ${option}`);
    t.match(describe(v), /is not one this worker knows; if it is safe, add .* to allow_flags$/);
    t.equal(checkFlags(argv, [option]).type, 'ok', `${argv.join(' ')} with allow_flags ${option}`);
  }
});

t.test('values, response files and archives', async (t) => {
  t.equal(describe(checkFlags([CC, '-c', 'a.c', '-o'], [])), 'the option "-o" needs a value');
  t.equal(describe(checkFlags([CC, 'a.o', '-Xlinker', '-Map'], [])), 'the option "-Xlinker -Map" needs a value');
  t.equal(describe(checkFlags([CC, 'a.o', '-Xlinker', '-Map', 'b.o'], [])), 'the option "-Xlinker -Map" needs a value', 'ld would take the next input as the map');
  t.equal(describe(checkFlags([CC, 'a.o', '-Wl,-Map'], [])), 'the option "-Wl,-Map" needs a value');
  t.equal(describe(checkFlags([CC, '-Wp,-MD', '-c', 'a.c'], [])), 'the option "-Wp,-MD" needs a value');
  t.equal(describe(checkFlags([CC, '-Xlinker'], [])), 'the option "-Xlinker" needs a value');
  t.match(describe(checkFlags([CC, '-c', '@x.rsp'], [])), /response file/);
  t.match(describe(checkFlags([CC, '-o', '@x.rsp'], [])), /response file/, 'gcc expands a value too');
  t.match(describe(checkFlags([CC, '-Wl,-o,@x.rsp'], [])), /response file/);
  t.equal(checkFlags([CC, '-x', 'c', '-c', '-'], []).type, 'ok', 'stdin');
  t.match(describe(checkFlags(['ar', 'xP', 'lib.a'], [])), /does not allow ar P/, 'extracting to stored paths');
  t.equal(checkFlags(['ar', 'xP', 'lib.a'], ['ar P']).type, 'ok');
  t.match(describe(checkFlags(['ar', 'M'], [])), /not an ar operation/, 'MRI scripts');
  for (const ops of ['qc', 'rcs', '-rcs', 'cr', 't', 'x', 'rcsD', 'qcT', 's']) t.equal(checkFlags(['ar', ops, 'lib.a', 'a.o'], []).type, 'ok', `ar ${ops}`);
  for (const extra of [['--target=elf64-x86-64'], ['-X32_64'], ['--thin'], ['-D'], ['-U'], ['-T'], ['--version'], ['--help']]) {
    t.equal(checkFlags(['ar', 'rcs', ...extra, 'lib.a'], []).type, 'ok', `ar ${extra.join(' ')}`);
  }
  for (const extra of [['-D'], ['-U'], ['-t'], ['--version']]) t.equal(checkFlags(['ranlib', ...extra, 'lib.a'], []).type, 'ok', `ranlib ${extra.join(' ')}`);
  t.equal(checkFlags(['ranlib', '--bogus', 'lib.a'], []).type, 'refused');
});

t.test('an option matched by family that a compiler reads with a value: what follows is read both ways', async (t) => {
  // If some clang took -fnew-thing's next argument, -o /etc/x would be an option.
  t.same(writesOf(checkFlags(['clang', '-fnew-thing', '-D', '-o', '/etc/x', '-c', 'a.c'], [])).map((w) => w.path), ['/etc/x']);
  t.equal(checkFlags(['clang', '-mnew-thing', '-D', '-fplugin=/x.so', '-c', 'a.c'], []).type, 'refused');
  t.equal(checkFlags(['clang', '-O2', '-Xlinker', '--gc-sections', '-Xlinker', '-rpath', '-Xlinker', '/x', 'a.o'], []).type, 'ok', 'no false refusal');
  t.equal(checkFlags(['clang', '-mthread-model', 'posix', '-fnew-alignment', '16', '-c', 'a.c'], []).type, 'ok', 'clang options known to take a value');
});

t.test('tool families', async (t) => {
  for (const n of ['ar', 'gcc-ar', 'llvm-ar', 'x86_64-linux-gnu-ar', 'ar-12', '/usr/bin/x86_64-linux-gnu-gcc-ar-12']) t.equal(toolFamily(n), 'ar', n);
  for (const n of ['ranlib', 'llvm-ranlib', 'gcc-ranlib-12']) t.equal(toolFamily(n), 'ranlib', n);
  for (const n of ['ld', 'ld.bfd', 'ld.gold', 'ld.lld', 'lld', 'mold', 'x86_64-linux-gnu-ld', 'x86_64-linux-gnu-ld.bfd', '/usr/bin/ld.lld-15']) t.equal(toolFamily(n), 'ld', n);
  for (const n of ['gcc', 'cc', 'c++', 'clang++', 'x86_64-linux-gnu-gcc-12', '/w/test/fixtures/fake-cc.sh', 'clang-ld-wrapper.sh']) t.equal(toolFamily(n), 'driver', n);
});

interface RealCommand {
  readonly source: string;
  readonly argv: readonly string[];
}

t.test('real command lines (c-ares, libarchive, cppcheck, the sample project, the tests) are all ok', async (t) => {
  const fixture = JSON.parse(readFileSync(`${ROOT}test/fixtures/flag-policy-real-commands.json`, 'utf8')) as RealCommand[];
  t.ok(fixture.length >= 30, `${fixture.length} command lines`);
  for (const { source, argv } of fixture) {
    const v = checkFlags(argv, []);
    t.equal(v.type, 'ok', `${source}: ${describe(v)}: ${argv.join(' ').slice(0, 160)}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Fuzz: random command lines built from the tables, checked against what each piece must do.


/** A piece of a command line and what the policy must make of it. */
interface Piece {
  readonly args: readonly string[];
  /** The allow_flags name of the code it loads. */
  readonly loads?: string;
  /** The path it writes. */
  readonly writes?: string;
  readonly unknown?: boolean;
}

type Gen = (r: Rng) => Piece;

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    const x = xs[this.int(xs.length)];
    if (x === undefined) throw new Error('empty');
    return x;
  }
  /** A path inside or outside the mount, or a plain word. */
  path(): string {
    return this.pick(['/mnt/m/sub/a.o', '/mnt/m/x/y.d', 'sub/out.map', 'a.o', '/etc/x', '../../x', '/tmp/evil.so', 'word']);
  }
  /** Any value, commas too. */
  value(): string {
    return this.next() < 0.2 ? this.pick(['a,b', 'x,y,z', '/etc/x,y']) : this.pick(['foo', 'x86-64', 'c99', '1', this.path()]);
  }
}

const first = (v: string): string => v.split(',')[0] ?? v;

const DRIVER_SAFE: Gen[] = [
  () => ({ args: ['-c'] }), () => ({ args: ['-O2'] }), () => ({ args: ['-Wall'] }), () => ({ args: ['-g'] }), () => ({ args: ['-fPIC'] }),
  (r) => ({ args: [`-D${r.value()}`] }), (r) => ({ args: ['-D', r.value()] }), (r) => ({ args: [`-I${r.path()}`] }),
  (r) => ({ args: ['-isystem', r.path()] }), () => ({ args: ['-MD'] }), (r) => ({ args: ['-MT', r.value()] }), () => ({ args: ['-std=c11'] }),
  () => ({ args: ['-march=x86-64'] }), () => ({ args: ['-x', 'c'] }), (r) => ({ args: [r.path()] }), () => ({ args: ['-lm'] }),
  (r) => ({ args: ['-L', r.path()] }), () => ({ args: ['-fsanitize=address,undefined'] }), (r) => ({ args: [`-fdebug-prefix-map=${r.path()}=.`] }),
  () => ({ args: ['-fuse-ld=lld'] }), () => ({ args: ['-mllvm', '-inline-threshold=3'] }), (r) => ({ args: ['-include', r.path()] }),
  () => ({ args: ['-pthread'] }), () => ({ args: ['-Werror=format-security'] }), () => ({ args: ['-gsplit-dwarf'] }),
];

const DRIVER_WRITES: Gen[] = [
  ...['-o', '-MF', '-MJ', '--serialize-diagnostics', '-aux-info', '-dumpdir', '-dumpbase', '--output'].map((o): Gen => (r) => {
    const p = r.value();
    return { args: [o, p], writes: p };
  }),
  ...['-o', '-MF', '--output=', '-fdump-tree-all=', '-fdump-ipa-cgraph=', '-fopt-info-vec=', '-fprofile-note=', '-fcrash-diagnostics-dir=',
    '-ftime-trace=', '-fmodules-cache-path=', '-fmodule-output=', '-foptimization-record-file=', '-fproc-stat-report=']
    .map((o): Gen => (r) => {
      const p = r.value();
      return { args: [`${o}${p}`], writes: p };
    }),
  ...['-Wl,-Map=', '-Wl,-Map,', '-Wl,--Map=', '-Wl,--dependency-file=', '-Wl,--out-implib=', '-Wl,-o,', '-Wp,-MD,', '-Wp,-MMD,', '-Wp,-MF,',
    '-Wa,-adhln=', '-Wa,--MD,'].map((o): Gen => (r) => {
    const p = r.value();
    return { args: [`${o}${p}`], writes: first(p) };
  }),
  (r) => {
    const p = r.value();
    return { args: ['-Xlinker', `-Map=${p}`], writes: p };
  },
];

const DRIVER_LOADS: Gen[] = [
  ...([['-fplugin=', '-fplugin'], ['-fplugin-arg-x-y=', '-fplugin'], ['-specs=', '-specs'], ['--specs=', '-specs'], ['-B', '-B'],
    ['--prefix=', '-B'], ['-fpass-plugin=', '-fpass-plugin'], ['--ld-path=', '--ld-path'], ['-iplugindir=', '-iplugindir'],
    ['-fmodule-mapper=', '-fmodule-mapper'], ['--gcc-toolchain=', '--gcc-toolchain'], ['-fcompare-debug=', '-fcompare-debug'],
    ['-fuse-ld=/usr/local/bin/', '-fuse-ld']] as const).map(([o, option]): Gen => (r) => ({ args: [`${o}${r.value()}`], loads: option })),
  ...([['-specs', '-specs'], ['-B', '-B'], ['--prefix', '-B'], ['-wrapper', '-wrapper'], ['-gcc-toolchain', '--gcc-toolchain']] as const)
    .map(([o, option]): Gen => (r) => ({ args: [o, r.value()], loads: option })),
];

const DRIVER_UNKNOWN: Gen[] = [() => ({ args: ['-fxyz=1'], unknown: true }), () => ({ args: ['-fmodules'], unknown: true }), () => ({ args: ['--bogus'], unknown: true })];

/** ld's own pieces; `loads` names without a prefix ("-plugin"). */
const LD: Gen[] = [
  () => ({ args: ['--as-needed'] }), (r) => ({ args: ['-L', r.path()] }), () => ({ args: ['-lfoo'] }), (r) => ({ args: ['-rpath', r.path()] }),
  () => ({ args: ['-soname', 'libx.so.1'] }), () => ({ args: ['--gc-sections'] }), () => ({ args: ['-z', 'now'] }),
  (r) => ({ args: [r.path()] }), (r) => ({ args: ['--version-script', r.path()] }), () => ({ args: ['-O1'] }),
  ...['-o', '--output', '-Map', '--Map', '--dependency-file', '--out-implib'].map((o): Gen => (r) => {
    const p = r.value();
    return { args: [o, p], writes: p };
  }),
  ...['--output=', '-Map=', '--dependency-file=', '--out-implib='].map((o): Gen => (r) => {
    const p = r.value();
    return { args: [`${o}${p}`], writes: p };
  }),
  (r) => ({ args: ['-plugin', r.value()], loads: '-plugin' }), (r) => ({ args: [`--plugin=${r.value()}`], loads: '-plugin' }),
  (r) => ({ args: [`-plugin-opt=${r.value()}`], loads: '-plugin' }), () => ({ args: ['--bogus'], unknown: true }),
];

const CPP: Gen[] = [
  (r) => ({ args: ['-D', r.value()] }), (r) => ({ args: ['-I', r.path()] }), () => ({ args: ['-MP'] }),
  ...['-MD', '-MMD', '-MF'].map((o): Gen => (r) => {
    const p = r.value();
    return { args: [o, p], writes: p };
  }),
];

const AS: Gen[] = [
  () => ({ args: ['--noexecstack'] }), () => ({ args: ['--gdwarf-5'] }), () => ({ args: ['-mrelax-relocations=no'] }), (r) => ({ args: ['-I', r.path()] }),
  (r) => {
    const p = r.value();
    return { args: ['--MD', p], writes: p };
  },
  (r) => {
    const p = r.value();
    return { args: [`-aln=${p}`], writes: p };
  },
];

const CC1: Gen[] = [
  () => ({ args: ['-fcolor-diagnostics'] }), () => ({ args: ['-fno-pch-timestamp'] }), (r) => ({ args: ['-include-pch', r.path()] }),
  () => ({ args: ['-Wno-unused'] }), () => ({ args: ['-mllvm', '-x86-asm-syntax=intel'] }),
  ...['-load', '-plugin', '-add-plugin', '-load-pass-plugin'].map((o): Gen => (r) => ({ args: [o, r.value()], loads: o })),
  (r) => ({ args: ['-plugin-arg-foo', r.value()], loads: '-plugin-arg' }), () => ({ args: ['-dependency-file'], unknown: true }),
];

/** A sub-tool's piece passed on by the driver: -Wl,a,b or -Xlinker a -Xlinker b (and the same for cpp, as, cc1). */
function passOn(r: Rng, piece: Piece, joined: string | undefined, separate: string, prefix: string): Piece {
  const args = joined !== undefined && r.next() < 0.5 && !piece.args.some((a) => a.includes(','))
    ? [joined + piece.args.join(',')]
    : piece.args.flatMap((a) => [separate, a]);
  return { ...piece, args, ...(piece.loads !== undefined ? { loads: prefix + piece.loads } : {}) };
}

function driverPiece(r: Rng): Piece {
  const x = r.next();
  if (x < 0.35) return r.pick(DRIVER_SAFE)(r);
  if (x < 0.5) return r.pick(DRIVER_WRITES)(r);
  if (x < 0.6) return r.pick(DRIVER_LOADS)(r);
  if (x < 0.62) return r.pick(DRIVER_UNKNOWN)(r);
  if (x < 0.77) return passOn(r, r.pick(LD)(r), '-Wl,', '-Xlinker', '-Wl,');
  if (x < 0.85) return passOn(r, r.pick(CPP)(r), '-Wp,', '-Xpreprocessor', '-Wp,');
  if (x < 0.92) return passOn(r, r.pick(AS)(r), '-Wa,', '-Xassembler', '-Wa,');
  return passOn(r, r.pick(CC1)(r), undefined, '-Xclang', '-Xclang ');
}

const ALL_LOADS = [
  '-fplugin', '-specs', '-B', '-fpass-plugin', '--ld-path', '-iplugindir', '-fmodule-mapper', '--gcc-toolchain', '-fcompare-debug', '-fuse-ld',
  '-wrapper', '-Wl,-plugin', '-Xclang -load', '-Xclang -plugin', '-Xclang -add-plugin', '-Xclang -load-pass-plugin', '-Xclang -plugin-arg',
  'ld -plugin', 'ar --plugin',
];

/** One random command line: its argv, the pieces it was built from, and the allow_flags it runs under. */
function randomCommand(r: Rng): { argv: string[]; pieces: Piece[]; allow: string[] } {
  const tool = r.pick(['gcc', 'clang', '/usr/bin/cc', 'x86_64-linux-gnu-g++-12', 'ld', 'ld.lld', 'mold', 'ar', 'llvm-ar']);
  const family = toolFamily(tool);
  const pieces: Piece[] = [];
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) {
    if (family === 'ld') {
      const p = r.pick(LD)(r);
      pieces.push(p.loads !== undefined ? { ...p, loads: `ld ${p.loads}` } : p);
    } else if (family === 'ar') {
      pieces.push(r.pick<Gen>([
        (g) => ({ args: [g.path()] }), () => ({ args: ['--target=elf64-x86-64'] }),
        (g) => {
          const dir = g.path();
          return { args: ['--output', dir], writes: dir };
        },
        (g) => ({ args: ['--plugin', g.value()], loads: 'ar --plugin' }), (g) => ({ args: [`--plugin=${g.value()}`], loads: 'ar --plugin' }),
      ])(r));
    } else {
      pieces.push(driverPiece(r));
    }
  }
  const head = family === 'ar' ? [tool, r.pick(['rcs', 'qc', 'cr', '-rcs', 't', 'x'])] : [tool];
  const allow = ALL_LOADS.filter(() => r.next() < 0.3);
  return { argv: [...head, ...pieces.flatMap((p) => p.args)], pieces, allow };
}

t.test('fuzz: 20,000 random command lines', async (t) => {
  const r = new Rng(seededRandom(0x5eed));
  const start = Date.now();
  let ok = 0;
  const failures: string[] = [];
  for (let i = 0; i < 20_000 && failures.length < 10; i++) {
    const { argv, pieces, allow } = randomCommand(r);
    let v: FlagVerdict;
    try {
      v = checkFlags(argv, allow);
    } catch (err) {
      failures.push(`threw ${String(err)}: ${JSON.stringify(argv)}`);
      continue;
    }
    const loads = pieces.flatMap((p) => (p.loads !== undefined ? [p.loads] : []));
    const mustRefuse = pieces.some((p) => p.unknown === true) || loads.some((l) => !allow.includes(l));
    if (v.type === 'ok') {
      ok++;
      const banned = loads.find((l) => !allow.includes(l));
      if (banned !== undefined) failures.push(`ok although it loads ${banned}: ${JSON.stringify(argv)} allow ${JSON.stringify(allow)}`);
      for (const p of pieces) {
        if (p.writes !== undefined && !v.writes.some((w) => w.path === p.writes)) failures.push(`missed the write of ${p.writes}: ${JSON.stringify(argv)}`);
      }
    } else if (!mustRefuse) {
      failures.push(`refused (${v.reason}) though every piece is fine: ${JSON.stringify(argv)} allow ${JSON.stringify(allow)}`);
    }
  }
  t.same(failures, [], 'every verdict holds');
  t.ok(ok > 4000, `${ok} of them ok`);
  t.ok(Date.now() - start < 5000, `in ${Date.now() - start} ms`);
});
