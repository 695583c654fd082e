// The options the flag policy accepts for the linker (bfd, gold, lld, mold) and for what the driver passes on.
import { mllvmValue, wFamily } from './flag-table.js';
import {
  buildTable, dashes, flags, ldShort, libraryName, long, specs, type Family, type Spec, type Table,
} from './flag-spec.js';

/** ld long options taking a value: --name V and --name=V (and -name … for those in `single`). */
const ldLong = (effect: Spec['effect'], names: readonly string[], option?: string, single = false): Spec[] =>
  (single ? dashes(names) : names.map((n) => `--${n}`)).flatMap((n) => long(effect, [n], { option: option ?? n }));

const dd = (names: readonly string[]): string[] => names.map((n) => `--${n}`);

/**
 * Long options GNU ld documents (or builds commonly spell) with one dash: accepted with one or two.
 * Others only with two: with one, an ld that lacks the option reads it as a cluster of short ones.
 */
const SINGLE_DASH_FLAGS = [
  'shared', 'static', 'pie', 'no-pie', 'Bstatic', 'Bdynamic', 'Bsymbolic', 'Bsymbolic-functions', 'Bsymbolic-non-weak-functions',
  'Bsymbolic-non-weak', 'Bno-symbolic', 'Bshareable', 'dn', 'dy', 'non_shared', 'call_shared', 'export-dynamic', 'as-needed',
  'no-as-needed', 'whole-archive', 'no-whole-archive', 'start-group', 'end-group',
];

const DOUBLE_DASH_FLAGS = [
  'gc-sections', 'no-gc-sections', 'build-id', 'start-lib', 'end-lib', 'no-export-dynamic', 'no-undefined', 'pic-executable',
  'no-pic-executable', 'eh-frame-hdr', 'no-eh-frame-hdr', 'enable-new-dtags', 'disable-new-dtags', 'sort-common', 'threads',
  'no-threads', 'color-diagnostics', 'no-color-diagnostics', 'fatal-warnings', 'no-fatal-warnings', 'warn-common', 'warn-once',
  'warn-shared-textrel', 'warn-textrel', 'warn-mismatch', 'no-warn-mismatch', 'warn-rwx-segments', 'no-warn-rwx-segments',
  'warn-execstack', 'no-warn-execstack', 'push-state', 'pop-state', 'allow-shlib-undefined', 'no-allow-shlib-undefined',
  'allow-multiple-definition', 'strip-all', 'strip-debug', 'discard-all', 'discard-locals', 'gdb-index', 'no-gdb-index',
  'relax', 'no-relax', 'no-copy-dt-needed-entries', 'copy-dt-needed-entries', 'add-needed', 'no-add-needed',
  'no-undefined-version', 'undefined-version', 'error-unresolved-symbols', 'warn-unresolved-symbols', 'relocatable',
  'emit-relocs', 'no-dynamic-linker', 'print-gc-sections', 'no-print-gc-sections', 'print-icf-sections', 'print-memory-usage',
  'print-map', 'stats', 'cref', 'demangle', 'no-demangle', 'no-keep-memory', 'reduce-memory-overheads', 'no-dependent-libraries',
  'ld-generated-unwind-info', 'no-ld-generated-unwind-info', 'apply-dynamic-relocs', 'ignore-data-address-equality',
  'ignore-function-address-equality', 'rosegment', 'no-rosegment', 'no-warnings', 'verbose', 'version', 'help', 'trace',
  'fix-cortex-a53-843419', 'fix-cortex-a8', 'be8', 'use-android-relr-tags', 'lto-O0', 'lto-O1', 'lto-O2', 'lto-O3', 'nmagic',
  'omagic', 'no-omagic',
];

const LD_SPECS: Spec[] = [
  ...flags(dashes(SINGLE_DASH_FLAGS)),
  ...flags(dd(DOUBLE_DASH_FLAGS)),
  ...flags(['-(', '-)', '-E', '-O0', '-O1', '-O2', '-O3', '-x', '-X', '-s', '-S', '-r', '-q', '-v', '-V', '-t', '-M', '-w', '-n', '-N']),
  ...specs('joined', 'safe', dd([
    'build-id=', 'sort-common=', 'icf=', 'threads=', 'color-diagnostics=', 'pack-dyn-relocs=', 'error-limit=',
    'undefined-glob=',
  ])),
  ...ldLong('safe', [
    'thread-count', 'compress-debug-sections', 'hash-style', 'exclude-libs', 'sort-section', 'unresolved-symbols', 'image-base',
    'defsym', 'wrap', 'entry', 'undefined', 'trace-symbol', 'require-defined', 'export-dynamic-symbol', 'section-start', 'target2',
  ]),
  ...ldLong('safe', ['soname', 'rpath', 'rpath-link', 'dynamic-linker'], undefined, true),
  ...specs('joined', 'safe', ['-Ttext=', '-Tdata=', '-Tbss=', '-Ttext-segment=', '-Trodata-segment=', '-Tldata-segment=']),
  ...specs('separate', 'safe', ['-e', '-u', '-h', '-m', '-I', '-y']),
  { name: '-z', form: 'both', effect: 'safe', check: ldShort('z') },
  { name: '-l', form: 'both', effect: 'safe', check: libraryName },
  ...ldLong('safe', ['library'], undefined, true),
  ...specs('both', 'reads', ['-L', '-T']),
  ...ldLong('reads', ['library-path', 'script', 'version-script', 'dynamic-list', 'sysroot'], undefined, true),
  ...ldLong('reads', ['retain-symbols-file', 'symbol-ordering-file', 'section-ordering-file', 'call-graph-ordering-file', 'export-dynamic-symbol-list']),
  // Writes, in every spelling.
  { name: '-o', form: 'separate', effect: 'writes' },
  ...ldLong('writes', ['output', 'Map', 'dependency-file', 'out-implib'], undefined, true),
  // Loads code into the linker, in every spelling.
  ...ldLong('loads', ['plugin'], '-plugin', true),
  ...specs('separate', 'loads', dashes(['plugin-opt']), { option: '-plugin' }),
  ...specs('joined', 'loads', dashes(['plugin-opt']), { option: '-plugin' }),
  ...ldLong('loads', ['load-pass-plugin'], '--load-pass-plugin', true),
];

export const LD_TABLE: Table = buildTable('linker', LD_SPECS);

/** The preprocessor's options (-Wp, -Xpreprocessor): there -MD and -MMD take the depfile's name. */
export const CPP_TABLE: Table = buildTable('preprocessor', [
  ...specs('both', 'reads', ['-I', '-include', '-imacros', '-isystem', '-iquote', '-idirafter']),
  ...specs('both', 'safe', ['-D', '-U', '-MT', '-MQ']),
  ...specs('separate', 'writes', ['-MD', '-MMD']),
  ...specs('both', 'writes', ['-MF']),
  ...flags(['-MP', '-MG', '-M', '-MM', '-P', '-C', '-CC', '-dD', '-dM', '-dN', '-dI', '-dU', '-H', '-undef', '-nostdinc', '-nostdinc++']),
]);

/** gas -a[cdghlmns][=FILE]: a listing, to FILE if given. */
const asListing: Family = (arg) => {
  const m = /^-a[cdghlmns]*(=(.*))?$/.exec(arg);
  if (m === null) return undefined;
  return m[2] !== undefined ? { effect: 'writes', option: '-a', value: m[2] } : { effect: 'safe', option: '-a' };
};

/** -m<machine option>, -g/--gdwarf-N/--gstabs… debug info. */
const asFamily: Family = (arg) => {
  if (/^-m[A-Za-z0-9]/.test(arg) && !arg.startsWith('-mllvm')) return { effect: 'safe', option: arg.replace(/=.*/, '') };
  if (/^--?g(dwarf|stabs|codeview)[A-Za-z0-9+=_-]*$/.test(arg)) return { effect: 'safe', option: arg.replace(/=.*/, '') };
  return undefined;
};

/** The assembler's options (-Wa, -Xassembler). */
export const AS_TABLE: Table = buildTable('assembler', [
  ...flags([
    '--noexecstack', '--execstack', '--64', '--32', '--x32', '-g', '--gen-debug', '--compress-debug-sections',
    '--nocompress-debug-sections', '-W', '--no-warn', '--fatal-warnings', '--warn', '-K', '-L', '--keep-locals', '-R', '-Z', '-n',
    '--strip-local-absolute', '--statistics', '--sectname-subst', '--no-pad-sections', '-v', '--version', '--traditional-format',
    '--divide', '--reduce-memory-overheads', '--crel', '--allow-incbin',
  ]),
  ...specs('joined', 'safe', [
    '--compress-debug-sections=', '--size-check=', '--elf-stt-common=', '--generate-missing-build-notes=', '--hash-size=',
    '--multibyte-handling=',
  ]),
  ...long('safe', ['--defsym', '--debug-prefix-map']),
  ...specs('both', 'reads', ['-I']),
  ...long('writes', ['--MD']),
  { name: '-MD', form: 'separate', effect: 'writes' },
], [asListing, asFamily]);

/** clang -cc1's options (-Xclang): a small safe set. */
export const CC1_TABLE: Table = buildTable('compiler', [
  ...flags([
    '-fcolor-diagnostics', '-fno-color-diagnostics', '-fno-pch-timestamp', '-fno-validate-pch', '-fallow-pch-with-compiler-errors',
    '-emit-pch', '-disable-O0-optnone', '-disable-llvm-passes', '-disable-llvm-optzns', '-disable-llvm-verifier',
    '-no-opaque-pointers', '-opaque-pointers', '-relaxed-aliasing', '-fdump-record-layouts', '-fdump-record-layouts-simple',
    '-fdump-vtable-layouts',
  ]),
  { name: '-include-pch', form: 'separate', effect: 'reads' },
  ...long('safe', ['-fdiagnostics-format', '-fdebug-compilation-dir', '-fcoverage-compilation-dir']),
  ...specs('separate', 'safe', ['-target-feature', '-target-cpu']),
  { name: '-mllvm', form: 'separate', effect: 'safe', check: mllvmValue },
  ...specs('separate', 'loads', ['-load', '-plugin', '-add-plugin', '-load-pass-plugin']),
  { name: '-plugin-arg-', form: 'joined-separate', effect: 'loads', option: '-plugin-arg' },
  { name: '-fpass-plugin=', form: 'joined', effect: 'loads' },
  { name: '-fplugin', form: 'joined', effect: 'loads', option: '-fplugin' },
], [wFamily]);

/** ar's options other than the operation letters. */
export const AR_TABLE: Table = buildTable('archiver', [
  ...long('loads', ['--plugin']),
  ...long('writes', ['--output']),
  ...long('safe', ['--target', '--format', '--rsp-quoting']),
  ...flags(['--thin', '--version', '--help', '-X32_64', '-X32', '-X64', '-Xany', '-V']),
], [(arg) => (/^-[cDfilLNoOPsSTuUvV]+$/.test(arg) ? { effect: 'safe', option: arg } : undefined)]);

export const RANLIB_TABLE: Table = buildTable('archiver', [
  ...long('loads', ['--plugin']),
  ...flags(['-D', '-U', '-t', '-v', '-V', '-h', '--version', '--help']),
]);
