// Would a worker's flag policy refuse this command? Then it builds locally, with the reason, instead of failing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import { checkFlags } from '../common/flag-policy.js';
import { splitResponseFile } from '../common/response-file-text.js';

/** Response files inside response files: deeper than this, the worker refuses (as it does). */
const MAX_DEPTH = 8;

/** `command` with its response files read here, as the worker will read them; a string says why it cannot be. */
async function expand(command: readonly string[], cwd: string): Promise<string[] | string> {
  if (!command.some((a, i) => i > 0 && a.startsWith('@'))) return [...command];
  const out: string[] = [command[0] ?? ''];
  const walk = async (arg: string, depth: number): Promise<string | undefined> => {
    if (!arg.startsWith('@')) {
      out.push(arg);
      return undefined;
    }
    if (depth >= MAX_DEPTH) return `the response file ${arg} nests response files deeper than ${MAX_DEPTH} levels`;
    let text: string;
    try {
      text = await readFile(path.resolve(cwd, arg.slice(1)), 'utf8');
    } catch (err) {
      if (errnoCode(err) === undefined) throw err;
      return `the response file ${arg} cannot be read (${errnoCode(err) ?? ''})`;
    }
    for (const a of splitResponseFile(text)) {
      const why = await walk(a, depth + 1);
      if (why !== undefined) return why;
    }
    return undefined;
  };
  for (const arg of command.slice(1)) {
    const why = await walk(arg, 0);
    if (why !== undefined) return why;
  }
  return out;
}

/** Why a worker would refuse `command`'s flags, or undefined if it accepts them. */
export async function farmFlagsRefusal(command: readonly string[], cwd: string, allowFlags: readonly string[]): Promise<string | undefined> {
  const argv = await expand(command, cwd);
  if (typeof argv === 'string') return argv;
  const verdict = checkFlags(argv, allowFlags);
  return verdict.type === 'refused' ? `a worker would refuse it: ${verdict.reason}` : undefined;
}
