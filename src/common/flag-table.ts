// The gcc/clang driver's options the flag policy accepts, and what each does with its value.
import {
  buildTable, flags, libraryName, ldShort, long, specs, unknownName, writesUnlessStd,
  type Effect, type Family, type Match, type Spec, type Table, type ValueCheck,
} from './flag-spec.js';

/** An -mllvm value: `-name` or `-name=value`, nothing that names a file (or a plugin to load). */
export const mllvmValue: ValueCheck = (value) => {
  const name = unknownName(value);
  if (!/^-[A-Za-z0-9_.-]+(=[A-Za-z0-9_.,+-]*)?$/.test(value) || /file|output|path|dir|load|plugin|export|remark/i.test(name)) {
    return { unknown: `-mllvm ${name}` };
  }
  return 'safe';
};

/** -fuse-ld=lld names a linker; -fuse-ld=/x/ld runs that program. */
const linkerName: ValueCheck = (v) => (v.includes('/') ? 'loads' : 'safe');

/** A name, not a path: a target triple (clang looks for `<triple>-ld`), a thread model, an ABI. */
const noSlash: ValueCheck = (v) => (/[/\\]/.test(v) ? 'unknown' : 'safe');

const saveTemps: ValueCheck = (v) => (v === 'cwd' || v === 'obj' ? 'safe' : { unknown: '-save-temps' });

const DRIVER_SPECS: Spec[] = [
  ...flags([
    '-c', '-S', '-E', '-M', '-MM', '-MD', '-MMD', '-MP', '-MG', '-s', '-r', '-static', '-static-libgcc', '-static-libstdc++',
    '-static-pie', '-shared', '-shared-libgcc', '-pie', '-no-pie', '-rdynamic', '-pthread', '-pthreads', '-pipe', '-nostdinc',
    '-nostdinc++', '-nostdlib', '-nostdlib++', '-nostartfiles', '-nodefaultlibs', '-nolibc', '-nostdlibinc', '-nobuiltininc',
    '-undef', '-P', '-C', '-CC', '-H', '-v', '-###', '-w', '-pedantic', '-pedantic-errors', '--pedantic', '-ansi', '-traditional',
    '-traditional-cpp', '-trigraphs', '-dumpversion', '-dumpfullversion', '-dumpmachine', '-dumpspecs', '-save-temps', '-time',
    '-Q', '--version', '--help', '--verbose', '--coverage', '-coverage', '-p', '-pg', '-no-canonical-prefixes',
    '-Qunused-arguments', '-Qn', '-Qy', '-integrated-as', '-no-integrated-as', '-emit-llvm', '-ObjC', '-ObjC++',
    '-static-libasan', '-static-libtsan', '-static-liblsan', '-static-libubsan', '-static-libhwasan', '-static-libsan',
    '-shared-libsan', '--no-default-config', '-W', '--save-temps',
  ]),
  // Writes.
  ...specs('both', 'writes', ['-o', '-MF', '-MJ']),
  ...specs('separate', 'writes', ['--serialize-diagnostics', '-serialize-diagnostics', '-aux-info', '-dumpdir', '-dumpbase']),
  ...long('writes', ['--output']),
  // Reads.
  ...specs('both', 'reads', [
    '-I', '-iquote', '-isystem', '-idirafter', '-include', '-imacros', '-iprefix', '-iwithprefix', '-iwithprefixbefore',
    '-isysroot', '-imultilib', '-iframework', '-iframeworkwithsysroot', '-iwithsysroot', '-cxx-isystem', '-L', '-T', '-F',
  ]),
  ...specs('separate', 'reads', ['-isystem-after', '-include-pch', '-resource-dir']),
  ...specs('joined', 'reads', ['-resource-dir=']),
  ...long('reads', ['--sysroot']),
  // Values that are names, not paths.
  ...specs('both', 'safe', ['-MT', '-MQ', '-x', '-D', '-U', '-G', '-A']),
  // clang options of the -f, -m, -T families that take the next argument (clang 14: `clang -### … OPT next.c`).
  ...specs('separate', 'safe', ['-fdebug-compilation-dir', '-fnew-alignment', '-ftrapv-handler', '-fxray-instruction-threshold']),
  ...specs('separate', 'safe', ['-Tbss', '-Tdata', '-Ttext']),
  { name: '-mthread-model', form: 'separate', effect: 'safe', check: noSlash },
  { name: '-meabi', form: 'separate', effect: 'safe', check: noSlash },
  ...specs('separate', 'reads', ['-filelist', '-force_load']),
  ...specs('flag', 'unknown', ['-frewrite-map-file', '-fintrinsic-modules-path']),
  { name: '-l', form: 'both', effect: 'safe', check: libraryName },
  { name: '-z', form: 'both', effect: 'safe', check: ldShort('z') },
  ...specs('separate', 'safe', ['-u', '-e', '-dumpbase-ext', '-framework']),
  ...specs('separate', 'safe', ['-target', '-arch', '--rtlib'], { check: noSlash }),
  ...specs('joined', 'safe', ['--target=', '-stdlib=', '--stdlib=', '-rtlib=', '--rtlib=', '-unwindlib=', '--unwindlib='], { check: noSlash }),
  ...specs('joined', 'safe', ['-std=', '--std=', '--help=']),
  ...long('safe', ['--param']),
  { name: '-save-temps=', form: 'joined', effect: 'safe', check: saveTemps },
  { name: '-mllvm', form: 'separate', effect: 'safe', check: mllvmValue },
  { name: '-mllvm=', form: 'joined', effect: 'safe', check: mllvmValue },
  // Another tool's options.
  { name: '-Wl,', form: 'joined', effect: 'safe', pass: 'ld', split: true },
  { name: '-Xlinker', form: 'separate', effect: 'safe', pass: 'ld' },
  { name: '-Wp,', form: 'joined', effect: 'safe', pass: 'cpp', split: true },
  { name: '-Xpreprocessor', form: 'separate', effect: 'safe', pass: 'cpp' },
  { name: '-Wa,', form: 'joined', effect: 'safe', pass: 'as', split: true },
  { name: '-Xassembler', form: 'separate', effect: 'safe', pass: 'as' },
  { name: '-Xclang', form: 'separate', effect: 'safe', pass: 'cc1' },
  { name: '-Xarch_', form: 'joined-separate', effect: 'safe', option: '-Xarch_', nest: true },
  // Code from elsewhere: a plugin, specs, another program.
  ...specs('both', 'loads', ['-B'], { option: '-B' }),
  ...long('loads', ['--prefix'], { option: '-B' }),
  ...specs('joined', 'loads', ['-specs=', '--specs='], { option: '-specs' }),
  ...specs('separate', 'loads', ['-specs', '--specs'], { option: '-specs' }),
  { name: '-wrapper', form: 'separate', effect: 'loads' },
  { name: '--ld-path=', form: 'joined', effect: 'loads' },
  { name: '-iplugindir=', form: 'joined', effect: 'loads' },
  { name: '--gcc-toolchain=', form: 'joined', effect: 'loads' },
  { name: '-gcc-toolchain', form: 'separate', effect: 'loads', option: '--gcc-toolchain' },
  { name: '--gcc-install-dir=', form: 'joined', effect: 'loads' },
];

/** Value-taking -f options (`-fNAME=VALUE`): what the value is. */
const F_VALUES = new Map<string, Effect | ValueCheck>([
  ...[
    'visibility', 'diagnostics-color', 'debug-prefix-map', 'file-prefix-map', 'macro-prefix-map', 'profile-prefix-map',
    'coverage-prefix-map', 'debug-compilation-dir', 'coverage-compilation-dir', 'file-compilation-dir', 'sanitize',
    'no-sanitize', 'sanitize-recover', 'no-sanitize-recover', 'sanitize-trap', 'no-sanitize-trap',
    'sanitize-address-use-after-scope', 'sanitize-address-use-after-return', 'sanitize-coverage', 'no-sanitize-coverage',
    'sanitize-address-field-padding', 'sanitize-memory-track-origins', 'sanitize-hwaddress-abi', 'sanitize-memtag-mode',
    'sanitize-undefined-strip-path-components', 'sanitize-address-destructor', 'sanitize-sections', 'asan-shadow-offset',
    'stack-protector', 'cf-protection', 'lto', 'lto-partition', 'lto-jobs', 'lto-compression-level', 'lto-incremental-cache-size',
    'linker-output', 'abi-version', 'abi-compat-version', 'template-depth', 'template-backtrace-limit', 'constexpr-depth',
    'constexpr-steps', 'constexpr-ops-limit', 'constexpr-loop-limit', 'constexpr-cache-depth', 'max-errors', 'error-limit',
    'message-length', 'tls-model', 'fp-contract', 'excess-precision', 'permitted-flt-eval-methods', 'trivial-auto-var-init',
    'trivial-auto-var-init-stop-after', 'trivial-auto-var-init-max-size', 'zero-call-used-regs', 'strict-flex-arrays',
    'exec-charset', 'input-charset', 'wide-exec-charset', 'profile-update', 'stack-reuse', 'patchable-function-entry',
    'align-functions', 'align-loops', 'align-jumps', 'align-labels', 'inline-limit', 'diagnostics-format', 'diagnostics-urls',
    'diagnostics-path-format', 'diagnostics-column-unit', 'diagnostics-column-origin', 'diagnostics-minimum-margin-width',
    'diagnostics-text-art-charset', 'diagnostics-escape-format', 'diagnostics-hotness-threshold',
    'diagnostics-misexpect-tolerance', 'tabstop', 'openmp', 'openmp-version', 'ms-compatibility-version', 'denormal-fp-math',
    'denormal-fp-math-f32', 'fp-model', 'fp-exception-behavior', 'fp-eval-method', 'complex-arithmetic', 'debug-default-version',
    'vect-cost-model', 'simd-cost-model', 'ira-algorithm', 'ira-region', 'ira-verbose', 'live-patching', 'stack-check',
    'extend-arguments', 'gnuc-version', 'ms-runtime-lib', 'save-optimization-record', 'optimization-record-passes',
    'embed-bitcode', 'profile-exclude-files', 'profile-filter-files', 'profile-prefix-path', 'profile-reproducible',
    'profile-info-section', 'profile-function-groups', 'profile-selected-function-group', 'random-seed', 'pack-struct',
    'max-type-align', 'new-alignment', 'strong-eval-order', 'macro-backtrace-limit', 'caret-diagnostics-max-lines',
    'spell-checking-limit', 'bracket-depth', 'concepts-diagnostics-depth', 'sched-stalled-insns', 'sched-stalled-insns-dep',
    'sched-verbose', 'stack-limit-register', 'stack-limit-symbol', 'instrument-functions-exclude-file-list',
    'instrument-functions-exclude-function-list', 'callgraph-info', 'binutils-version', 'xray-instruction-threshold',
    'xray-instrumentation-bundle', 'xray-selected-function-group', 'xray-function-groups', 'objc-runtime', 'objc-abi-version',
    'constant-string-class', 'time-report', 'time-trace-granularity', 'lax-vector-conversions', 'trapv-handler', 'strub',
    'hardened', 'sanitize-kcfi-arity',
  ].map((n): [string, Effect] => [n, 'safe']),
  ...[
    'profile-generate', 'profile-use', 'profile-dir', 'auto-profile', 'sanitize-ignorelist', 'sanitize-blacklist',
    'sanitize-system-ignorelist', 'sanitize-coverage-allowlist', 'sanitize-coverage-ignorelist', 'sanitize-coverage-whitelist',
    'sanitize-coverage-blacklist', 'xray-attr-list', 'xray-always-instrument', 'xray-never-instrument', 'profile-list',
    'profile-remapping-file', 'profile-instr-generate', 'profile-instr-use', 'profile-sample-use', 'cs-profile-generate',
    'basic-block-sections',
  ].map((n): [string, Effect] => [n, 'reads']),
  ...[
    'profile-note', 'crash-diagnostics-dir', 'time-trace', 'modules-cache-path', 'module-output', 'optimization-record-file',
    'proc-stat-report', 'lto-incremental',
  ].map((n): [string, Effect] => [n, 'writes']),
  ['use-ld', linkerName],
]);

/** Value-taking -f options known by a leading part of their name. */
const F_VALUE_PREFIXES: ReadonlyArray<readonly [string, Effect | ValueCheck]> = [
  ['dump-', writesUnlessStd], ['opt-info', writesUnlessStd], ['diagnostics-show-', 'safe'], ['visibility-', 'safe'],
  ['stack-protector', 'safe'],
];

/** -f options that load code or run other programs, by their allow_flags name. */
function fLoads(name: string, value: string | undefined): string | undefined {
  if (name.startsWith('plugin')) return '-fplugin';
  if (name === 'pass-plugin') return '-fpass-plugin';
  if (name === 'module-mapper') return '-fmodule-mapper';
  if (name === 'compare-debug' && value !== undefined) return '-fcompare-debug';
  return undefined;
}

/** -fNAME, -fno-NAME (booleans: no path, no code) and -fNAME=VALUE from F_VALUES. */
const fFamily: Family = (arg) => {
  if (!arg.startsWith('-f')) return undefined;
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
  const value = eq < 0 ? undefined : arg.slice(eq + 1);
  if (!/^[A-Za-z0-9][A-Za-z0-9_+.-]*$/.test(name)) return undefined;
  const option = `-f${name}`;
  const loads = fLoads(name, value);
  if (loads !== undefined) return { effect: 'loads', option: loads, ...(value !== undefined ? { value } : {}) };
  if (value === undefined) {
    // Modules: clang writes a module cache outside the tree by default, gcc a gcm.cache; only if allowed.
    if (/^(modules?|cxx-modules|implicit-modules?)(-|$)/.test(name)) return undefined;
    return { effect: 'safe', option, byFamily: true };
  }
  const what = F_VALUES.get(name) ?? F_VALUE_PREFIXES.find(([p]) => name.startsWith(p))?.[1];
  if (what === undefined) return undefined;
  return typeof what === 'string' ? { effect: what, option, value } : { effect: 'safe', option, value, check: what };
};

/** A family match: safe, named up to its "=", perhaps an option with a separate value if it has no "=". */
const fam = (arg: string): Match => ({ effect: 'safe', option: unknownName(arg), ...(arg.includes('=') ? {} : { byFamily: true }) });

/** -W<warning>, -Wno-…, -Werror=…: not -Wl, -Wp, -Wa (matched before) nor anything with a path. */
export const wFamily: Family = (arg) => {
  if (!/^-W[A-Za-z0-9]/.test(arg) || /^-W[lpa](,|$)/.test(arg) || /[/,\s]/.test(arg)) return undefined;
  return fam(arg);
};

/**
 * -m<target option> (-march=…, -mno-red-zone…). Not -mllvm (matched before), clang's -module-dependency-dir
 * (writes), -mmlir, nor names with "_" (Darwin's -multiply_defined X).
 */
const mFamily: Family = (arg) =>
  /^-m[A-Za-z0-9][A-Za-z0-9.+-]*(=|$)/.test(arg) && !/^-m(llvm|odule|mlir)/.test(arg) ? fam(arg) : undefined;

const oFamily: Family = (arg) => (/^-O[A-Za-z0-9]*$/.test(arg) ? fam(arg) : undefined);

/** -g, -g3, -ggdb, -gdwarf-4, -gsplit-dwarf, -gz=zlib; not clang's -gen-…, -gpu-…, gcc's -gnat…, -gcc-toolchain. */
const gFamily: Family = (arg) =>
  /^-g([a-z0-9][A-Za-z0-9_=+.,-]*)?$/.test(arg) && !/^-g(en|pu|nat|cc)/.test(arg) ? fam(arg) : undefined;

/** -dD, -dM, -dA…: dump letters (the -dump… options are listed). */
const dFamily: Family = (arg) => (/^-d[A-Za-z]{1,6}$/.test(arg) && !/^-d(ump|y|ead)/.test(arg) ? fam(arg) : undefined);

const printFamily: Family = (arg) => (/^--?print-[a-z]/.test(arg) ? fam(arg) : undefined);

/**
 * Spellings that would otherwise read as a short option with a joined value (-o, -l) but are other
 * options of clang's (-objcmt-…, -lazy_library …): not known.
 */
const notJoined: Family = (arg) => (/^-(obj|offload|opt-|lazy_)/.test(arg) ? { effect: 'unknown', option: unknownName(arg) } : undefined);

const DRIVER: Table = buildTable('compiler', DRIVER_SPECS, []);

export const DRIVER_TABLE: Table = {
  noun: 'compiler',
  classify: (arg: string): Match | undefined => {
    const early = notJoined(arg);
    if (early !== undefined) return early;
    const m = DRIVER.classify(arg);
    if (m !== undefined) return m;
    for (const family of [wFamily, fFamily, mFamily, oFamily, gFamily, dFamily, printFamily]) {
      const f = family(arg);
      if (f !== undefined) return f;
    }
    return undefined;
  },
};
