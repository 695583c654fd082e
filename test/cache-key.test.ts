// The cache's keys, depfile reading and clock-macro detection, in process.
import t from 'tap';
import { BASE_MARK, cacheability, normalizeArgs } from '../src/common/cache-key.js';
import { decodeEntry, decodeManifest, encodeEntry, encodeManifest } from '../src/common/cache-files.js';
import { depfilePrerequisites } from '../src/common/depfile.js';
import { usesClockMacros } from '../src/common/file-hashes.js';

const MOUNT = '/mnt/shared';

t.test('what may be cached', async (t) => {
  const ok = (argv: string[], cwd = '/mnt/shared/a/build') => cacheability(argv, cwd, MOUNT);
  t.equal(ok(['gcc', '-c', 'a.c', '-o', 'a.o', '-MD', '-MF', 'a.d']).type, 'cacheable');
  t.match(ok(['gcc', '-c', 'a.c', '-o', 'a.o']), { type: 'uncacheable', reason: /no depfile/ });
  t.match(ok(['gcc', 'a.o', '-o', 'app', '-MD']), { type: 'uncacheable', reason: /not a compile/ });
  t.match(ok(['gcc', '-c', 'a.c', 'b.c', '-MD']), { type: 'uncacheable', reason: /one source/ });
  t.match(ok(['gcc', '-c', 'a.c', '-o', 'a.o', '-MD', '-gsplit-dwarf']), { type: 'uncacheable', reason: /output name/ });
  t.match(ok(['gcc', '-c', 'a.c', '-o', 'a.o', '-MD', '-fplugin=x.so']), { type: 'uncacheable' });
  t.match(ok(['/bin/true', '-c', 'a.c', '-o', 'a.o', '-MD']), { type: 'uncacheable', reason: /not a compiler/ });
  t.match(ok(['gcc', '-c', 'a.c', '-o', 'a.o', '-MD']), { type: 'cacheable', depfile: '/mnt/shared/a/build/a.d' }, 'an implicit depfile is named after -o');
});

t.test('a checkout base only where prefix maps hide it', async (t) => {
  const base = (argv: string[], cwd = '/mnt/shared/a/build') => {
    const c = cacheability(['gcc', '-c', '/mnt/shared/a/src/x.c', '-o', 'x.o', '-MD', ...argv], cwd, MOUNT);
    return c.type === 'cacheable' ? c.base : 'uncacheable';
  };
  t.equal(base([]), undefined, 'no prefix map: paths are keyed as written');
  t.equal(base(['-ffile-prefix-map=/mnt/shared/a=.']), '/mnt/shared/a');
  t.equal(base(['-fdebug-prefix-map=/mnt/shared/a=.', '-fmacro-prefix-map=/mnt/shared/a=.']), '/mnt/shared/a', 'debug and macro maps together');
  t.equal(base(['-fdebug-prefix-map=/mnt/shared/a=.']), undefined, 'a debug map alone leaves __FILE__');
  t.equal(base(['-ffile-prefix-map=/mnt/shared/a/src=.']), undefined, 'a map that does not hold the working directory');
  t.equal(base(['-ffile-prefix-map=/mnt/shared=.']), undefined, 'the mount itself is no base');
  t.equal(base(['-ffile-prefix-map=/mnt/shared/a=.', '-ffile-prefix-map=/mnt=x']), undefined, 'a map of an ancestor would record the base');
  t.equal(base(['-ffile-prefix-map=/mnt/shared/a=/mnt/shared/a/x']), undefined, 'a new name that names the base');
});

t.test('normalized arguments: only path-valued ones under the base are marked', async (t) => {
  const argv = ['gcc', '-I/mnt/shared/a/include', '-isystem', '/mnt/shared/a/sys', '-DDIR="/mnt/shared/a/data"', '-ffile-prefix-map=/mnt/shared/a=.', '-c', '/mnt/shared/a/src/x.c', '-o', 'x.o', '-I/usr/include/foo'];
  t.same(normalizeArgs(argv, '/mnt/shared/a/src/x.c', '/mnt/shared/a'), [
    'gcc', `-I${BASE_MARK}/include`, '-isystem', `${BASE_MARK}/sys`, '-DDIR="/mnt/shared/a/data"', `-ffile-prefix-map=${BASE_MARK}=.`, '-c', `${BASE_MARK}/src/x.c`, '-o', 'x.o', '-I/usr/include/foo',
  ]);
});

t.test('depfiles as gcc writes them', async (t) => {
  t.same(depfilePrerequisites('a.o: /src/a.c /src/a.h \\\n /usr/include/stdio.h\n'), ['/src/a.c', '/src/a.h', '/usr/include/stdio.h']);
  t.same(depfilePrerequisites('a.o: a\\ b.h c$$d.h\n\na\\ b.h:\nc$$d.h:\n'), ['a b.h', 'c$d.h'], 'escapes and -MP phony targets');
  t.equal(depfilePrerequisites('not a depfile\n'), undefined);
});

t.test('clock macros: a use counts, the name in a string does not', async (t) => {
  t.ok(usesClockMacros(Buffer.from('const char *d = __DATE__;')));
  t.ok(usesClockMacros(Buffer.from('printf("%s", __TIME__);')));
  t.ok(usesClockMacros(Buffer.from('"built " __TIMESTAMP__')));
  t.notOk(usesClockMacros(Buffer.from('macros.insert("__DATE__", Macro("__DATE__"));')), "a preprocessor's own name for it");
  t.notOk(usesClockMacros(Buffer.from('int main(void) { return 0; }')));
});

t.test('entries and manifests: a flipped byte or a cut is named, never served', async (t) => {
  const entry = encodeEntry({ object: Buffer.from('object bytes'), depfile: 'a.o: a.c\n', stdout: Buffer.from('out'), stderr: Buffer.from('warning') });
  const back = decodeEntry(entry);
  t.ok(typeof back !== 'string' && back.object.toString() === 'object bytes' && back.depfile === 'a.o: a.c\n' && back.stderr.toString() === 'warning');
  const flipped = Buffer.from(entry);
  flipped[20] = (flipped[20] ?? 0) ^ 1;
  t.match(decodeEntry(flipped), /checksum does not match/);
  t.match(decodeEntry(entry.subarray(0, entry.length - 5)), /checksum does not match/);
  t.match(decodeEntry(Buffer.from('garbage')), /not a cache file/);
  const manifest = encodeManifest({ candidates: [{ files: [{ path: '/x.h', hash: 'ab' }], result: 'cd' }] });
  t.same(decodeManifest(manifest), { candidates: [{ files: [{ path: '/x.h', hash: 'ab' }], result: 'cd' }] });
  t.match(decodeManifest(entry), /not a manifest/, 'an entry is not a manifest');
});
