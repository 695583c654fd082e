// Reads the prerequisites (the files a compile read) out of a Make-syntax depfile as gcc and clang write it.

/**
 * Every prerequisite named in `text`, unescaped, in order, each once; targets (a token ending in
 * `:`, and -MP's phony rules) are left out. Undefined if the text is not a depfile this can read.
 */
export function depfilePrerequisites(text: string): string[] | undefined {
  const files = new Set<string>();
  const joined = text.replace(/\\\r?\n/g, ' ');
  for (const line of joined.split('\n')) {
    if (line.trim() === '') continue;
    const tokens = splitTokens(line);
    const colon = tokens.findIndex((t) => t.endsWith(':'));
    if (colon === -1) return undefined;
    for (const t of tokens.slice(colon + 1)) files.add(t);
  }
  return [...files];
}

/** Splits on unescaped blanks: `\ ` is a space in a name, `\#` a hash, `$$` a dollar; `:` ends a target. */
function splitTokens(line: string): string[] {
  const tokens: string[] = [];
  let cur = '';
  const flush = (): void => {
    if (cur !== '') tokens.push(cur);
    cur = '';
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === '\\' && (line[i + 1] === ' ' || line[i + 1] === '#' || line[i + 1] === '\\')) {
      cur += line[i + 1];
      i++;
    } else if (c === '$' && line[i + 1] === '$') {
      cur += '$';
      i++;
    } else if (c === ' ' || c === '\t') {
      flush();
    } else if (c === ':' && (line[i + 1] === undefined || line[i + 1] === ' ' || line[i + 1] === '\t')) {
      cur += ':';
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return tokens;
}
