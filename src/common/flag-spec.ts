// Option tables of the flag policy: how each option takes its value and what the value does.
//
// Dependency-free (the launcher and the worker both use it): see flag-policy.ts for the checker.

/** What an option makes the tool do: nothing risky, read its value, write it, load code, or not known. */
export type Effect = 'safe' | 'reads' | 'writes' | 'loads' | 'unknown';

/** The tools whose options a command line carries: the driver passes some on (-Wl, -Wp, -Wa, -Xclang). */
export type ToolName = 'driver' | 'ld' | 'cpp' | 'as' | 'cc1' | 'ar' | 'ranlib';

/** An option the table does not accept, named as allow_flags names it. */
export interface Unknown {
  readonly unknown: string;
}

/** Decides what an option does from its value: -fuse-ld=lld is safe, -fuse-ld=/x/ld loads code. */
export type ValueCheck = (value: string) => Effect | Unknown;

/** How an option takes its value. */
export type Form =
  /** exactly the name, no value */
  | 'flag'
  /** exactly the name; the value is the next argument */
  | 'separate'
  /** the name then the value in the same argument */
  | 'joined'
  /** `-I dir` or `-Idir` */
  | 'both'
  /** the name and more in the same argument, then a value in the next (-Xarch_x86_64 ARG, -plugin-arg-NAME ARG) */
  | 'joined-separate';

/** One option of a tool's table. */
export interface Spec {
  /** The whole argument (flag, separate) or its leading part (joined). */
  readonly name: string;
  readonly form: Form;
  readonly effect: Effect;
  /** The name allow_flags and messages use; default: `name` without a trailing "=". */
  readonly option?: string;
  readonly check?: ValueCheck;
  /** The values go on to another tool's command line, as a stream (-Wl, -Xlinker…). */
  readonly pass?: ToolName;
  /** The joined value is a comma-separated list (-Wl,a,b). */
  readonly split?: boolean;
  /** The value is one more argument of this same tool, checked as such (-Xarch_x86_64 ARG). */
  readonly nest?: boolean;
}

/** What the table says about one argument. */
export interface Match {
  readonly effect: Effect;
  /** The name allow_flags and messages use, without the tool's prefix ("-Wl,", "-Xclang "). */
  readonly option: string;
  /** The value when joined to the option. */
  readonly value?: string;
  /** The value is the next argument. */
  readonly separate?: boolean;
  readonly check?: ValueCheck;
  readonly pass?: ToolName;
  readonly split?: boolean;
  readonly nest?: boolean;
  /**
   * Matched by a family rule, not by name: a compiler could know it as an option that takes the
   * next argument, so the checker also reads the arguments after that one as options.
   */
  readonly byFamily?: boolean;
}

/** A rule for a family of options the table cannot list (-W…, -f…, -m…). */
export type Family = (arg: string) => Match | undefined;

export interface Table {
  /** What loads the code, for messages: "loads code into the compiler". */
  readonly noun: string;
  /** undefined: the option is not in the table. */
  readonly classify: (arg: string) => Match | undefined;
}

/** The allow_flags name of an option that the table does not know: the argument up to its "=". */
export function unknownName(arg: string): string {
  const eq = arg.indexOf('=');
  return eq > 0 ? arg.slice(0, eq) : arg;
}

function matchOf(spec: Spec, value: string | undefined): Match {
  return {
    effect: spec.effect,
    option: spec.option ?? spec.name.replace(/=$/, ''),
    ...(value !== undefined ? { value } : {}),
    ...(spec.form === 'separate' || spec.form === 'both' || spec.form === 'joined-separate' ? { separate: value === undefined || spec.form === 'joined-separate' } : {}),
    ...(spec.check !== undefined ? { check: spec.check } : {}),
    ...(spec.pass !== undefined ? { pass: spec.pass, split: spec.split === true } : {}),
    ...(spec.nest === true ? { nest: true } : {}),
  };
}

/**
 * A table from option specs and families: an exact name first, then the longest joined name the
 * argument starts with, then the families in order.
 */
export function buildTable(noun: string, specs: readonly Spec[], families: readonly Family[] = []): Table {
  const exact = new Map<string, Spec>();
  const joined: Spec[] = [];
  for (const spec of specs) {
    if (spec.form === 'flag' || spec.form === 'separate' || spec.form === 'both') {
      if (exact.has(spec.name)) throw new Error(`flag table: ${spec.name} listed twice`);
      exact.set(spec.name, spec);
    }
    if (spec.form === 'joined' || spec.form === 'both' || spec.form === 'joined-separate') joined.push(spec);
  }
  joined.sort((a, b) => b.name.length - a.name.length);
  const classify = (arg: string): Match | undefined => {
    const e = exact.get(arg);
    if (e !== undefined) return matchOf(e, undefined);
    for (const spec of joined) {
      if (arg.startsWith(spec.name)) return matchOf(spec, arg.slice(spec.name.length));
    }
    for (const family of families) {
      const m = family(arg);
      if (m !== undefined) return m;
    }
    return undefined;
  };
  return { noun, classify };
}

/** Specs of one form and effect for several names. */
export function specs(form: Form, effect: Effect, names: readonly string[], extra: Partial<Spec> = {}): Spec[] {
  return names.map((name) => ({ ...extra, name, form, effect }));
}

export const flags = (names: readonly string[], effect: Effect = 'safe'): Spec[] => specs('flag', effect, names);

/** Long options taking a value as `--name=V` or `--name V`. */
export function long(effect: Effect, names: readonly string[], extra: Partial<Spec> = {}): Spec[] {
  return names.flatMap((name) => [
    { ...extra, name, form: 'separate' as const, effect, option: extra.option ?? name },
    { ...extra, name: `${name}=`, form: 'joined' as const, effect, option: extra.option ?? name },
  ]);
}

/** Both "-name" and "--name" of each long name (ld accepts either for its long options). */
export function dashes(names: readonly string[]): string[] {
  return names.flatMap((n) => {
    const bare = n.replace(/^--?/, '');
    return bare.length > 1 ? [`-${bare}`, `--${bare}`] : [n];
  });
}

/** -fdump-…=FILE, -fopt-info…=FILE: the literals stdout and stderr are not files. */
export const writesUnlessStd: ValueCheck = (v) => (v === 'stdout' || v === 'stderr' ? 'safe' : 'writes');

/**
 * ld long options that write files or load code. A short option's joined value must not turn it
 * into one of these (or an abbreviation of one, which GNU ld's getopt_long_only accepts): the
 * driver hands `-l`, `-L`, `-z` … on to the linker as one argument.
 */
const LD_DANGEROUS = [
  'output', 'Map', 'dependency-file', 'out-implib', 'plugin', 'load-pass-plugin', 'error-handling-script', 'lto-',
  'thinlto-', 'why-extract', 'reproduce', 'mllvm', 'print-archive-stats', 'save-temps', 'time-trace', 'opt-remarks',
];

/** The check of a short ld option's joined value: `letter` + value must not read as a long option. */
export function ldShort(letter: string): ValueCheck {
  return (value) => {
    const name = unknownName(letter + value);
    if (name.length >= 2 && LD_DANGEROUS.some((d) => d.startsWith(name) || name.startsWith(d))) return { unknown: `-${name}` };
    return 'safe';
  };
}

/** A library name for -l: `m`, `c++`, `:libfoo.so.1`; nothing with "/" or "=" (or that reads as an ld long option). */
export const libraryName: ValueCheck = (value) => {
  if (!/^:?[A-Za-z0-9_+][A-Za-z0-9_.+-]*$/.test(value)) return { unknown: unknownName(`-l${value}`) };
  return ldShort('l')(value);
};
