// Response files (@FILE) of a job: confined to the mount, translated to this worker's paths, expanded for checks.
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isUnder, translateText } from '../common/mount-path.js';
import { InvalidJobError } from './invalid-job-error.js';

/** gcc reads response files inside response files; deeper than this is refused. */
const MAX_DEPTH = 8;

export interface ResponseFiles {
  /** Every argument the compiler will see, response files expanded: what the policy checks. */
  readonly expanded: string[];
  /** True if any argument was a readable response file. */
  readonly any: boolean;
  /** Response files whose text needed translation: argument index → translated text. */
  readonly copies: ReadonlyArray<{ readonly index: number; readonly text: string }>;
}

/**
 * Checks the response files of `argv` (already in this worker's paths), throwing
 * InvalidJobError for one that resolves outside the mount. One that does not exist
 * stays a plain argument, as gcc treats it. Writes nothing: see writeResponseCopies.
 */
export function resolveResponseFiles(argv: readonly string[], cwd: string, mount: string, from: string): ResponseFiles {
  // Most command lines have none: nothing to read, check or copy.
  if (!argv.some((a, i) => i > 0 && a.startsWith('@'))) return { expanded: [...argv], any: false, copies: [] };
  const realMount = realpathSync.native(mount);
  const copies: Array<{ index: number; text: string }> = [];
  const expanded: string[] = argv.length > 0 ? [argv[0] ?? ''] : [];
  let any = false;
  /** The translated text of response file `arg`, or undefined if it is not a readable one. */
  const read = (arg: string, depth: number): string | undefined => {
    let real: string;
    try {
      real = realpathSync.native(path.resolve(cwd, arg.slice(1)));
    } catch {
      return undefined; // gcc treats an unreadable @file as a plain argument; so do we
    }
    if (!isUnder(real, realMount)) throw new InvalidJobError(`the response file ${arg} resolves to ${real}, outside the mount ${mount}`);
    if (depth >= MAX_DEPTH) throw new InvalidJobError(`the response file ${arg} nests response files deeper than ${MAX_DEPTH} levels`);
    try {
      return readFileSync(real, 'utf8');
    } catch {
      return undefined;
    }
  };
  const expand = (arg: string, depth: number): string[] => {
    const text = arg.startsWith('@') ? read(arg, depth) : undefined;
    if (text === undefined) return [arg];
    any = true;
    return splitResponseFile(translateText(text, from, mount)).flatMap((a) => expand(a, depth + 1));
  };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    expanded.push(...expand(arg, 0));
    if (!arg.startsWith('@') || from === mount) continue;
    const text = read(arg, 0);
    const translated = text === undefined ? undefined : translateText(text, from, mount);
    if (translated !== undefined && translated !== text) copies.push({ index: i, text: translated });
  }
  return { expanded, any, copies };
}

/** Writes the translated copies and points `argv` at them; returns the files to delete after the run. */
export function writeResponseCopies(argv: string[], files: ResponseFiles, attemptId: string): string[] {
  const scratch: string[] = [];
  for (const { index, text } of files.copies) {
    const copy = path.join(os.tmpdir(), `distbuild-${attemptId}-${index}.rsp`);
    writeFileSync(copy, text, { mode: 0o600 });
    scratch.push(copy);
    argv[index] = `@${copy}`;
  }
  return scratch;
}

/** Splits a response file as gcc does (libiberty's buildargv): white space, quotes, backslashes. */
export function splitResponseFile(text: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i] ?? '';
      inArg = true;
    } else if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (inArg) args.push(cur);
  return args;
}
