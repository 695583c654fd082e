// Who a compiler is: `--version`'s first line and `-dumpmachine`, computed once per binary (path, size, mtime).
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { errnoCode } from './errno.js';

/** gcc and clang drivers by name (versioned and cross ones too): the tools worth identifying. */
const COMPILER = /^(.*-)?(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)(-[\d.]+)?$/;

/** How long identifying one compiler may take before it is given up (then: unknown). */
const IDENTIFY_TIMEOUT_MS = 10_000;

export function isIdentifiedCompiler(file: string): boolean {
  return COMPILER.test(file.split('/').pop() ?? '');
}

function run(file: string, arg: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, [arg], { timeout: IDENTIFY_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (err, stdout) => {
      resolve(err === null ? (String(stdout).split('\n')[0] ?? '').trim() : '');
    });
  });
}

/** gcc's --version starts with the name it was run by ("x86_64-linux-gnu-gcc-12 (Debian …) 12.2.0"): not part of who it is. */
function withoutOwnName(line: string, file: string): string {
  const name = file.split('/').pop() ?? '';
  return line.startsWith(`${name} `) ? line.slice(name.length + 1) : line;
}

export interface CompilerIdentities {
  /** The identity of the compiler at `real` (a resolved path), or "" if it is not one this identifies or cannot be asked. */
  of(real: string): Promise<string>;
}

/** A cache of identities, each computed once per (path, size, mtime), concurrent askers sharing one computation. */
export function createCompilerIdentities(): CompilerIdentities {
  const cache = new Map<string, Promise<string>>();
  return {
    async of(real) {
      if (!isIdentifiedCompiler(real)) return '';
      let st;
      try {
        st = await stat(real);
      } catch (err) {
        if (errnoCode(err) === undefined) throw err;
        return '';
      }
      const key = `${real}\0${st.size}\0${st.mtimeMs}`;
      let identity = cache.get(key);
      if (identity === undefined) {
        identity = Promise.all([run(real, '--version'), run(real, '-dumpmachine')]).then(([version, machine]) => (version === '' ? '' : `${withoutOwnName(version, real)}|${machine}`));
        if (cache.size >= 1000) cache.clear();
        cache.set(key, identity);
      }
      return identity;
    },
  };
}

