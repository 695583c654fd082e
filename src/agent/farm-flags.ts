// Would a worker's flag policy refuse this command? Then it builds locally, with the reason, instead of failing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import { checkFlags } from '../common/flag-policy.js';
import { MAX_RESPONSE_DEPTH, expandResponseFiles } from '../common/response-file-text.js';

/** Why a response file cannot be expanded here, as the worker would say it. */
class Unexpandable extends Error {
  override readonly name = 'Unexpandable';
}

/** `command` with its response files read here, as the worker will read them. */
function expand(command: readonly string[], cwd: string): Promise<string[]> {
  if (!command.some((a, i) => i > 0 && a.startsWith('@'))) return Promise.resolve([...command]);
  return expandResponseFiles(command, async (arg, depth) => {
    if (depth >= MAX_RESPONSE_DEPTH) throw new Unexpandable(`the response file ${arg} nests response files deeper than ${MAX_RESPONSE_DEPTH} levels`);
    try {
      return await readFile(path.resolve(cwd, arg.slice(1)), 'utf8');
    } catch (err) {
      if (errnoCode(err) === undefined) throw err;
      throw new Unexpandable(`the response file ${arg} cannot be read (${errnoCode(err) ?? ''})`);
    }
  });
}

/** Why a worker would refuse `command`'s flags, or undefined if it accepts them. */
export async function farmFlagsRefusal(command: readonly string[], cwd: string, allowFlags: readonly string[]): Promise<string | undefined> {
  let argv: string[];
  try {
    argv = await expand(command, cwd);
  } catch (err) {
    if (err instanceof Unexpandable) return err.message;
    throw err;
  }
  const verdict = checkFlags(argv, allowFlags);
  return verdict.type === 'ok' ? undefined : `a worker would refuse it: ${verdict.reason}`;
}
