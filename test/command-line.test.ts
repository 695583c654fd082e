// Reading compiler command lines, and translating paths between mounts.
import t from 'tap';
import { localOnlyReason, parseCommandLine } from '../src/common/command-line.js';
import { toMountRelative, translateText } from '../src/common/mount-path.js';

t.test('a CMake compile line', async (t) => {
  const cl = parseCommandLine(['/usr/bin/c++', '-I/m/src/include', '-isystem', '/m/third', '-O2', '-MD', '-MT', 'a.o', '-MF', 'a.o.d', '-o', 'a.o', '-c', '/m/src/a.cpp']);
  t.equal(cl.mode, 'compile');
  t.same(cl.inputs, ['/m/src/a.cpp']);
  t.same(cl.outputs.map((o) => [o.role, o.path]), [['depfile', 'a.o.d'], ['output', 'a.o']]);
  t.same(cl.includeDirs, ['/m/src/include', '/m/third']);
  t.equal(cl.depfileImplicit, false);
  t.equal(localOnlyReason(cl), undefined);
});

t.test('modes that stay local', async (t) => {
  t.equal(localOnlyReason(parseCommandLine(['gcc', '-E', 'a.c'])), 'preprocessing only (-E)');
  t.match(localOnlyReason(parseCommandLine(['gcc', '-M', 'a.c'])), /dependency listing only/);
  t.equal(localOnlyReason(parseCommandLine(['gcc', '-MD', '-c', 'a.c'])), undefined, '-MD is a compile');
  t.equal(localOnlyReason(parseCommandLine(['gcc', '-x', 'c', '-c', '-'])), 'reads its input from stdin');
  t.match(localOnlyReason(parseCommandLine(['gcc', '--version'])), /no input files/);
});

t.test('link outputs, including -Wl, maps', async (t) => {
  const cl = parseCommandLine(['g++', 'a.o', '-o', 'app', '-Wl,-Map=app.map', '-Wl,--out-implib,lib.dll.a', '-lm']);
  t.equal(cl.mode, 'link');
  t.same(cl.outputs.map((o) => [o.role, o.path, o.prefix, o.suffix]), [
    ['output', 'app', '', ''],
    ['map', 'app.map', '-Wl,-Map=', ''],
    ['implib', 'lib.dll.a', '-Wl,--out-implib,', ''],
  ]);
});

t.test('ar updates its archive (staged as a copy); ranlib rewrites it in place itself', async (t) => {
  const ar = parseCommandLine(['/usr/bin/ar', 'qc', 'libx.a', 'a.o', 'b.o']);
  t.equal(ar.mode, 'link');
  t.same(ar.outputs.map((o) => [o.path, o.updates, o.inPlace]), [['libx.a', true, undefined]]);
  const ranlib = parseCommandLine(['/usr/bin/ranlib', 'libx.a']);
  t.same(ranlib.outputs.map((o) => [o.path, o.inPlace]), [['libx.a', true]]);
});

t.test('flags that derive other names from -o are noticed', async (t) => {
  t.equal(parseCommandLine(['gcc', '-gsplit-dwarf', '-c', 'a.c', '-o', 'a.o']).outputNameLeaks, true);
  t.equal(parseCommandLine(['gcc', '--coverage', '-c', 'a.c', '-o', 'a.o']).outputNameLeaks, true);
  t.equal(parseCommandLine(['gcc', '-g', '-c', 'a.c', '-o', 'a.o']).outputNameLeaks, false);
});

t.test('mount paths translate where a path starts, and nowhere else', async (t) => {
  const tr = (s: string) => translateText(s, '/mnt/shared', '/w1');
  t.equal(tr('/mnt/shared/src/a.c'), '/w1/src/a.c');
  t.equal(tr('-I/mnt/shared/include'), '-I/w1/include');
  t.equal(tr('-isystem/mnt/shared/x'), '-isystem/w1/x');
  t.equal(tr('-Wl,-rpath,/mnt/shared/lib:/mnt/shared/lib2'), '-Wl,-rpath,/w1/lib:/w1/lib2');
  t.equal(tr('-fdebug-prefix-map=/mnt/shared=.'), '-fdebug-prefix-map=/w1=.');
  t.equal(tr('@/mnt/shared/x.rsp'), '@/w1/x.rsp');
  t.equal(tr('/mnt/sharedfoo/a.c'), '/mnt/sharedfoo/a.c', 'a longer name is another path');
  t.equal(tr('/usr/include/stdio.h'), '/usr/include/stdio.h');
  t.equal(tr('/data/mnt/shared/a.c'), '/data/mnt/shared/a.c', 'not a prefix');
  t.equal(tr('-DPATH="/mnt/shared/x"'), '-DPATH="/w1/x"');
  t.equal(translateText('a.o: /w1/src/a.c \\\n /w1/include/a.h\n', '/w1', '/mnt/shared'), 'a.o: /mnt/shared/src/a.c \\\n /mnt/shared/include/a.h\n');
  t.equal(toMountRelative('/mnt/shared/src', '/mnt/shared'), 'src');
  t.equal(toMountRelative('/mnt/shared', '/mnt/shared'), '');
  t.equal(toMountRelative('/mnt/sharedx', '/mnt/shared'), undefined);
});

t.test('commands translate accessed paths and keep the text that lands in outputs', async (t) => {
  const { translateCommand } = await import('../src/worker/translate-command.js');
  const cmd = [
    '/usr/bin/gcc', '-I/c/inc', '-DDIR="/c/data"', '-D', 'X=/c/x', '-MT', '/c/a.o', '-MF', '/c/a.d',
    '-fdebug-prefix-map=/c/src=/src', '-Wl,-rpath,/c/lib,-L/c/lib', '-Xlinker', '-rpath', '-Xlinker', '/c/rt', '-c', '/c/a.c', '-o', '/c/a.o',
  ];
  t.same(translateCommand(cmd, '/c', '/w', true), [
    '/usr/bin/gcc', '-ffile-prefix-map=/w=/c', '-I/w/inc', '-DDIR="/c/data"', '-D', 'X=/c/x', '-MT', '/c/a.o', '-MF', '/w/a.d',
    '-fdebug-prefix-map=/w/src=/src', '-Wl,-rpath,/c/lib,-L/w/lib', '-Xlinker', '-rpath', '-Xlinker', '/c/rt', '-c', '/w/a.c', '-o', '/w/a.o',
  ]);
  t.same(translateCommand(['ar', 'qc', '/c/l.a', '/c/a.o'], '/c', '/w', false), ['ar', 'qc', '/w/l.a', '/w/a.o']);
  t.same(translateCommand(cmd, '/c', '/c', true), cmd, 'same mount: unchanged');
});
