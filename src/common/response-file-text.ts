// The text of response files (@FILE) as libiberty's buildargv reads it (gcc, ld, ar): splitting and quoting.

/** Quotes one argument for libiberty's buildargv (gcc, ld, ar): a backslash before every special character. */
export function quoteResponseArg(arg: string): string {
  return arg === '' ? '""' : arg.replace(/[\s'"\\]/g, (c) => `\\${c}`);
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

/** gcc reads response files inside response files; deeper than this is refused. */
export const MAX_RESPONSE_DEPTH = 8;

/**
 * `argv` with every @FILE argument replaced by the arguments its text holds, nested ones too, as
 * gcc reads them. `read` gives the text of one (at `depth`, 0 for argv's own) and throws to refuse it.
 */
export async function expandResponseFiles(argv: readonly string[], read: (arg: string, depth: number) => Promise<string>): Promise<string[]> {
  const out: string[] = [argv[0] ?? ''];
  const expand = async (arg: string, depth: number): Promise<void> => {
    if (!arg.startsWith('@')) {
      out.push(arg);
      return;
    }
    for (const a of splitResponseFile(await read(arg, depth))) await expand(a, depth + 1);
  };
  for (let i = 1; i < argv.length; i++) await expand(argv[i] ?? '', 0);
  return out;
}
