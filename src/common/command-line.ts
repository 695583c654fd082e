// Reads a gcc/clang command line: its mode, inputs, outputs and include dirs.
//
// Dependency-free: the launcher and the worker both use it.

/** A file the command writes, and where its name sits in argv. */
export interface OutputArg {
  /** Index in argv of the argument that holds the path. */
  readonly index: number;
  /** Text before the path in that argument ("" for `-o x`, "-o" for `-ox`, "-Wl,-Map=" …). */
  readonly prefix: string;
  /** Text after the path in that argument (rest of a -Wl, list). */
  readonly suffix: string;
  /** The path as written. */
  readonly path: string;
  readonly role: 'output' | 'depfile' | 'map' | 'implib';
  /** The tool writes it atomically itself (ranlib): no temporary name needed. */
  readonly inPlace?: boolean;
  /** The tool updates the existing file (ar q, r, d, m, s): staged as a copy of it, so a retry starts from the original. */
  readonly updates?: boolean;
}

export interface CommandLine {
  readonly argv: readonly string[];
  /** -c, -S: compile only; link: everything else that has inputs. */
  readonly mode: 'compile' | 'preprocess' | 'deps-only' | 'link' | 'info';
  readonly inputs: readonly string[];
  readonly outputs: readonly OutputArg[];
  readonly includeDirs: readonly string[];
  /** -MD or -MMD without -MF / -MT / -MQ: the compiler derives names from -o. */
  readonly depfileImplicit: boolean;
  readonly depTargetImplicit: boolean;
  readonly hasDepfile: boolean;
  /** Flags that make the compiler derive other files' names (or recorded text) from the -o name. */
  readonly outputNameLeaks: boolean;
  readonly readsStdin: boolean;
  readonly responseFiles: readonly string[];
}

/** Options whose value is the next argument when not joined. */
const SEPARATE_VALUE = new Set([
  '-o', '-I', '-include', '-imacros', '-isystem', '-iquote', '-idirafter', '-iprefix', '-iwithprefix',
  '-iwithprefixbefore', '-isysroot', '-imultilib', '-MF', '-MT', '-MQ', '-x', '-D', '-U', '-L', '-l', '-Xlinker',
  '-Xassembler', '-Xpreprocessor', '-Xclang', '-mllvm', '-T', '-u', '-e', '-z', '-aux-info', '--param', '-arch',
  '-target', '-B', '-F', '-dumpbase', '-dumpdir', '-dumpbase-ext', '--sysroot', '-A', '-MJ', '-G', '-wrapper',
]);

const INCLUDE_FLAGS = ['-isystem', '-iquote', '-idirafter', '-I'];

const LEAKY_PREFIXES = [
  '-gsplit-dwarf', '-save-temps', '-ftest-coverage', '--coverage', '-fprofile-arcs', '-fstack-usage',
  '-fdump-', '-fcallgraph-info', '-frecord-gcc-switches', '-aux-info', '-dumpbase', '-dumpdir', '-fopt-info',
  // Profiles are named after the object: -fprofile-use looks for <object>.gcda, -fprofile-generate records it.
  '-fprofile-generate', '-fprofile-use', '-fbranch-probabilities', '-fauto-profile',
];

/** ar and ranlib: ranlib rewrites the archive atomically itself; ar updates it, so it is worked on as a copy. */
function parseArchiver(argv: readonly string[]): CommandLine | undefined {
  const tool = (argv[0] ?? '').split('/').pop() ?? '';
  const base = { argv, includeDirs: [], depfileImplicit: false, depTargetImplicit: false, hasDepfile: false, outputNameLeaks: false, readsStdin: false, responseFiles: [] };
  if (/^(.*-)?(gcc-)?ar(-[\d.]+)?$|^llvm-ar/.test(tool)) {
    const ops = argv[1] ?? '';
    const archive = argv[2];
    if (archive === undefined || ops.startsWith('@')) return { ...base, mode: 'info', inputs: [], outputs: [] };
    const writes = /[qrdms]/.test(ops.replace(/^-/, ''));
    return {
      ...base,
      mode: writes ? 'link' : 'info',
      inputs: argv.slice(3),
      outputs: writes ? [{ index: 2, prefix: '', suffix: '', path: archive, role: 'output', updates: true }] : [],
    };
  }
  if (/^(.*-)?(gcc-)?ranlib(-[\d.]+)?$|^llvm-ranlib/.test(tool)) {
    const files = argv.slice(1).filter((a) => !a.startsWith('-'));
    return {
      ...base,
      mode: files.length > 0 ? 'link' : 'info',
      inputs: [],
      outputs: files.map((f) => ({ index: argv.indexOf(f), prefix: '', suffix: '', path: f, role: 'output' as const, inPlace: true })),
    };
  }
  return undefined;
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const archiver = parseArchiver(argv);
  if (archiver !== undefined) return archiver;
  const inputs: string[] = [];
  const outputs: OutputArg[] = [];
  const includeDirs: string[] = [];
  const responseFiles: string[] = [];
  let compileOnly = false;
  let preprocessOnly = false;
  let depsOnly = false;
  let md = false;
  let mf = false;
  let mt = false;
  let leaks = false;
  let stdin = false;
  let info = false;

  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (arg === '-' ) {
      stdin = true;
      continue;
    }
    if (arg.startsWith('@')) {
      responseFiles.push(arg.slice(1));
      continue;
    }
    if (!arg.startsWith('-')) {
      inputs.push(arg);
      continue;
    }
    if (LEAKY_PREFIXES.some((p) => arg.startsWith(p))) leaks = true;
    if (arg === '-c' || arg === '-S') compileOnly = true;
    else if (arg === '-E') preprocessOnly = true;
    else if (arg === '-M' || arg === '-MM') depsOnly = true;
    else if (arg === '-MD' || arg === '-MMD') md = true;
    else if (arg === '-###' || arg === '--version' || arg === '-v' || arg.startsWith('-print-') || arg.startsWith('-dump')) {
      if (!arg.startsWith('-dumpbase') && !arg.startsWith('-dumpdir')) info = true;
    }

    if (arg === '-o' || arg === '-MF') {
      if (next !== undefined) {
        outputs.push({ index: i + 1, prefix: '', suffix: '', path: next, role: arg === '-o' ? 'output' : 'depfile' });
        if (arg === '-MF') mf = true;
      }
      i++;
      continue;
    }
    if (arg.startsWith('-o') && arg.length > 2) {
      outputs.push({ index: i, prefix: '-o', suffix: '', path: arg.slice(2), role: 'output' });
      continue;
    }
    if (arg.startsWith('-MF') && arg.length > 3) {
      outputs.push({ index: i, prefix: '-MF', suffix: '', path: arg.slice(3), role: 'depfile' });
      mf = true;
      continue;
    }
    if (arg === '-MT' || arg === '-MQ' || arg.startsWith('-MT') || arg.startsWith('-MQ')) mt = true;
    if (arg.startsWith('-Wl,')) {
      collectLinkerOutputs(arg, i, outputs);
      continue;
    }
    const include = INCLUDE_FLAGS.find((f) => arg.startsWith(f));
    if (include !== undefined) {
      if (arg === include) {
        if (next !== undefined) includeDirs.push(next);
        i++;
      } else {
        includeDirs.push(arg.slice(include.length));
      }
      continue;
    }
    if (SEPARATE_VALUE.has(arg)) i++;
  }

  const mode: CommandLine['mode'] = preprocessOnly
    ? 'preprocess'
    : depsOnly && !md
      ? 'deps-only'
      : compileOnly
        ? 'compile'
        : inputs.length === 0 && responseFiles.length === 0 && (info || !stdin)
          ? 'info'
          : 'link';
  return {
    argv,
    mode,
    inputs,
    outputs,
    includeDirs,
    depfileImplicit: md && !mf,
    depTargetImplicit: md && !mt,
    hasDepfile: md || mf,
    outputNameLeaks: leaks,
    readsStdin: stdin,
    responseFiles,
  };
}

/** -Wl,-Map=FILE, -Wl,-Map,FILE, -Wl,--out-implib,FILE. */
function collectLinkerOutputs(arg: string, index: number, outputs: OutputArg[]): void {
  const parts = arg.slice(4).split(',');
  let offset = 4;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p] ?? '';
    const eq = /^(-Map=|--Map=|--out-implib=)(.+)$/.exec(part);
    if (eq !== null) {
      const role = eq[1]?.includes('implib') ? 'implib' : 'map';
      const start = offset + (eq[1]?.length ?? 0);
      outputs.push({ index, prefix: arg.slice(0, start), suffix: arg.slice(start + (eq[2]?.length ?? 0)), path: eq[2] ?? '', role });
    } else if ((part === '-Map' || part === '--Map' || part === '--out-implib') && p + 1 < parts.length) {
      const value = parts[p + 1] ?? '';
      const start = offset + part.length + 1;
      outputs.push({ index, prefix: arg.slice(0, start), suffix: arg.slice(start + value.length), path: value, role: part.includes('implib') ? 'implib' : 'map' });
    }
    offset += part.length + 1;
  }
}

/** Why a command cannot sensibly run remotely, or undefined if it can. */
export function localOnlyReason(cl: CommandLine): string | undefined {
  if (cl.readsStdin) return 'reads its input from stdin';
  switch (cl.mode) {
    case 'preprocess':
      return 'preprocessing only (-E)';
    case 'deps-only':
      return 'dependency listing only (-M/-MM)';
    case 'info':
      return 'no input files (a query such as --version)';
    default:
      return undefined;
  }
}
