// Checks a command's options against the flag tables: what it writes and reads, and refuses code loading and unknown options.
//
// Dependency-free (the tables are in flag-spec.ts, flag-table.ts and flag-table-ld.ts).
import { unknownName, type Effect, type Match, type Table, type ToolName } from './flag-spec.js';
import { DRIVER_TABLE } from './flag-table.js';
import { AR_TABLE, AS_TABLE, CC1_TABLE, CPP_TABLE, LD_TABLE, RANLIB_TABLE } from './flag-table-ld.js';

/** A path an option makes the command write (a file or a directory), as written in argv. */
export interface WrittenPath {
  /** The argument as given, e.g. "-Wl,-Map=out.map" (for a separate value, the option and value joined by a space: "-MF x.d"). */
  readonly arg: string;
  readonly path: string;
}

export type FlagVerdict =
  | { readonly type: 'ok'; readonly writes: readonly WrittenPath[]; readonly reads: readonly WrittenPath[] }
  | { readonly type: 'refused'; readonly arg: string; readonly option: string; readonly reason: string };

type Refused = Extract<FlagVerdict, { type: 'refused' }>;

/** The table of each tool, and the prefix its option names carry in allow_flags and messages. */
const TOOLS: Record<ToolName, { readonly table: Table; readonly prefix: string }> = {
  driver: { table: DRIVER_TABLE, prefix: '' },
  ld: { table: LD_TABLE, prefix: '-Wl,' },
  cpp: { table: CPP_TABLE, prefix: '-Wp,' },
  as: { table: AS_TABLE, prefix: '-Wa,' },
  cc1: { table: CC1_TABLE, prefix: '-Xclang ' },
  ar: { table: AR_TABLE, prefix: 'ar ' },
  ranlib: { table: RANLIB_TABLE, prefix: 'ranlib ' },
};

/** One argument of a tool's command line, and where it came from in argv. */
interface Item {
  readonly text: string;
  /** The argv text it came from ("-Wl,-Map,x", "-Xlinker -Map"). */
  readonly origin: string;
  /** Index in argv of that text: items split from one argument share it. */
  readonly at: number;
}

interface Context {
  readonly allow: ReadonlySet<string>;
  readonly writes: WrittenPath[];
  readonly reads: WrittenPath[];
}

const refused = (arg: string, option: string, reason: string): Refused => ({ type: 'refused', arg, option, reason });

const needsValue = (arg: string, option: string): Refused => refused(arg, option, `the option "${arg}" needs a value`);

/** The argv text of an option and its separate value ("-MF x.d"; one text for "-Wl,-Map,x"). */
const joinArgs = (a: Item, b: Item): string => (a.at === b.at ? a.origin : `${a.origin} ${b.origin}`);

/** Records or refuses one option with its value. */
function apply(m: Match, value: string | undefined, arg: string, prefix: string, noun: string, ctx: Context, lenient = false): Refused | undefined {
  let effect: Effect = m.effect;
  let option = m.option;
  if (m.check !== undefined && value !== undefined) {
    const v = m.check(value);
    if (typeof v === 'string') effect = v;
    else {
      effect = 'unknown';
      option = v.unknown;
    }
  }
  const name = prefix + option;
  switch (effect) {
    case 'safe':
      return undefined;
    case 'reads':
      ctx.reads.push({ arg, path: value ?? '' });
      return undefined;
    case 'writes':
      ctx.writes.push({ arg, path: value ?? '' });
      return undefined;
    case 'loads':
      if (!ctx.allow.has(name)) return refused(arg, name, `the option "${arg}" loads code into the ${noun}; this worker does not allow ${name} (setting allow_flags)`);
      if (value !== undefined && value !== '') ctx.reads.push({ arg, path: value });
      return undefined;
    case 'unknown':
      if (lenient || ctx.allow.has(name)) return undefined;
      return refused(arg, name, `the option "${arg}" is not one this worker knows; if it is safe, add ${name} to allow_flags`);
  }
}

/** True for an argument that is no option: an input file, `-` (stdin) or an empty string. */
const isOperand = (text: string): boolean => text === '' || text === '-' || !text.startsWith('-');

/**
 * The arguments for tool `to` that start at items[i]: this pass-through and those right after it
 * (gcc and clang hand them on in order, so `-Xlinker -Map -Xlinker F` and `-Wl,-Map -Wl,F` pair).
 */
function collectRun(items: readonly Item[], i: number, from: Table, to: ToolName): { run: Item[]; starts: number[]; next: number } | Refused {
  const run: Item[] = [];
  const starts: number[] = [];
  let j = i;
  for (;;) {
    const item = items[j];
    if (item === undefined) break;
    const m = isOperand(item.text) ? undefined : from.classify(item.text);
    if (m?.pass !== to) break;
    starts.push(j);
    if (m.split === true) {
      for (const part of (m.value ?? '').split(',')) run.push({ text: part, origin: item.origin, at: item.at });
      j += 1;
    } else {
      const value = items[j + 1];
      if (value === undefined) return needsValue(item.origin, m.option);
      run.push({ text: value.text, origin: joinArgs(item, value), at: item.at });
      j += 2;
    }
  }
  return { run, starts, next: j };
}

/**
 * One reading of a tool's arguments. The first reads them as the table says. An option matched
 * only by a family (-f…, -m…, -W…) could be one a compiler knows as taking the next argument as
 * its value: a second reading then starts after that argument, as the compiler would read on. It
 * is lenient (unknown options and missing values are the compiler's error then) but refuses code
 * loading and records writes, and stops where it falls in step with the first reading.
 */
interface Reading {
  readonly second: boolean;
  /** Unknown options and missing values pass (a second reading, or what one passes on). */
  readonly lenient: boolean;
  /** Where the first reading found arguments (not values). */
  readonly starts: Set<number>;
  /** Where second readings start. */
  readonly again: number[];
}

/** Checks the arguments of one tool (the driver, or what it passes to ld, cpp, as, cc1). */
function scan(items: readonly Item[], tool: ToolName, ctx: Context, prefix = TOOLS[tool].prefix, lenient = false): Refused | undefined {
  const first: Reading = { second: false, lenient, starts: new Set(), again: [] };
  const r = read(items, 0, tool, ctx, prefix, first);
  if (r !== undefined || lenient) return r;
  for (const from of first.again) {
    const r2 = read(items, from, tool, ctx, prefix, { second: true, lenient: true, starts: first.starts, again: [] });
    if (r2 !== undefined) return r2;
  }
  return undefined;
}

function read(items: readonly Item[], from: number, tool: ToolName, ctx: Context, prefix: string, reading: Reading): Refused | undefined {
  const { table } = TOOLS[tool];
  for (let i = from; i < items.length; i++) {
    const item = items[i];
    if (item === undefined) break;
    if (!reading.second) reading.starts.add(i);
    else if (reading.starts.has(i)) return undefined;
    if (item.text.startsWith('@')) return responseFile(item.origin, prefix);
    if (isOperand(item.text)) continue;
    const m: Match = table.classify(item.text) ?? { effect: 'unknown', option: unknownName(item.text) };
    if (m.byFamily === true && !reading.lenient) reading.again.push(i + 2);
    if (m.pass !== undefined) {
      const got = collectRun(items, i, table, m.pass);
      if ('type' in got) return reading.lenient ? undefined : got;
      const r = scan(got.run, m.pass, ctx, TOOLS[m.pass].prefix, reading.lenient);
      if (r !== undefined) return r;
      if (!reading.second) for (const s of got.starts) reading.starts.add(s);
      i = got.next - 1;
      continue;
    }
    let value = m.value;
    let arg = item.origin;
    if (m.separate === true) {
      const next = items[i + 1];
      if (next === undefined) return reading.lenient ? undefined : needsValue(item.origin, prefix + m.option);
      if (next.text.startsWith('@')) return responseFile(next.origin, prefix);
      value = next.text;
      arg = joinArgs(item, next);
      i++;
      if (m.nest === true && m.effect === 'safe') {
        const r = scan([{ text: value, origin: arg, at: item.at }], tool, ctx, prefix, reading.lenient);
        if (r !== undefined) return r;
        continue;
      }
    }
    const r = apply(m, value, arg, prefix, table.noun, ctx, reading.lenient);
    if (r !== undefined) return r;
  }
  return undefined;
}

function responseFile(arg: string, prefix: string): Refused {
  return refused(arg, `${prefix}@`, `the argument "${arg}" names a response file, which must be expanded before the command is checked`);
}

/** ar's operation: one of d m p q r s t x, with modifiers, with or without a leading "-". */
const AR_KEY = /^-?[dmpqrstxabcDfilLNoOPsSTuUvV]+$/;

function validArKey(key: string): boolean {
  const letters = key.replace(/^-/, '');
  const ops = letters.replace(/[^dmpqrtx]/g, '');
  return AR_KEY.test(key) && ops.length <= 1 && (ops.length === 1 || letters.includes('s'));
}

/** ar and ranlib: the operation letters, then options, archive and members. */
function scanArchiver(argv: readonly string[], tool: 'ar' | 'ranlib', ctx: Context): Refused | undefined {
  const { table, prefix } = TOOLS[tool];
  let key: string | undefined;
  let letters = '';
  for (let i = 1; i < argv.length; i++) {
    const text = argv[i] ?? '';
    if (text.startsWith('@')) return responseFile(text, prefix);
    const isOption = text.startsWith('--') || text.startsWith('-X') || (text.startsWith('-') && text !== '-' && (key !== undefined || tool === 'ranlib'));
    if (isOption) {
      const m: Match = table.classify(text) ?? { effect: 'unknown', option: unknownName(text) };
      let value = m.value;
      let arg = text;
      if (m.separate === true) {
        const next = argv[i + 1];
        if (next === undefined) return needsValue(text, prefix + m.option);
        value = next;
        arg = `${text} ${next}`;
        i++;
      }
      if (/^-[A-Za-z]+$/.test(text)) letters += text.slice(1);
      const r = apply(m, value, arg, prefix, table.noun, ctx);
      if (r !== undefined) return r;
    } else if (key === undefined && tool === 'ar') {
      if (!validArKey(text)) {
        return refused(text, `ar ${text}`, `the argument "${text}" is not an ar operation this worker knows (one of d, m, p, q, r, s, t, x with modifiers)`);
      }
      key = text;
      letters += text;
    }
  }
  if (key !== undefined && key.includes('x') && letters.includes('P') && !ctx.allow.has('ar P')) {
    return refused(key, 'ar P', `the option "${key}" extracts members to the paths stored in the archive, which this worker cannot check; this worker does not allow ar P (setting allow_flags)`);
  }
  return undefined;
}

/** The tool family of argv[0]: ar, ranlib, ld, or (everything else) a gcc/clang driver. */
export function toolFamily(argv0: string): 'ar' | 'ranlib' | 'ld' | 'driver' {
  const base = argv0.split('/').pop() ?? '';
  if (/(^|-)ar(-[\d.]+)?$/.test(base)) return 'ar';
  if (/(^|-)ranlib(-[\d.]+)?$/.test(base)) return 'ranlib';
  if (/(^|-)(ld(\.(bfd|gold|lld|mold))?|lld|ld64\.lld|mold|gold)(-[\d.]+)?$/.test(base)) return 'ld';
  return 'driver';
}

/**
 * Checks every argument of `argv` (response files already expanded; argv[0] is the tool) against the table.
 * `allowFlags` is the worker's setting allow_flags: option names (as `option` in a refusal names them) accepted although they load code or are unknown.
 */
export function checkFlags(argv: readonly string[], allowFlags: readonly string[]): FlagVerdict {
  const ctx: Context = { allow: new Set(allowFlags), writes: [], reads: [] };
  const family = toolFamily(argv[0] ?? '');
  // gcc, ld and ar read any argument starting with "@" as a response file, an option's value too.
  const rsp = argv.findIndex((a, i) => i > 0 && a.startsWith('@'));
  if (rsp > 0) return responseFile(argv[rsp] ?? '', '');
  let r: Refused | undefined;
  if (family === 'ar' || family === 'ranlib') {
    r = scanArchiver(argv, family, ctx);
  } else {
    const items = argv.slice(1).map((text, i): Item => ({ text, origin: text, at: i + 1 }));
    // ld run directly: its options are named "ld -plugin", not "-Wl,-plugin".
    r = family === 'ld' ? scan(items, 'ld', ctx, 'ld ') : scan(items, 'driver', ctx);
  }
  return r ?? { type: 'ok', writes: ctx.writes, reads: ctx.reads };
}
