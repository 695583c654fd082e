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
