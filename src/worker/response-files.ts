// Response files (@FILE) of a job: confined to the mount, expanded once, handed to the compiler as a private copy.
import { readFile, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errnoCode } from '../common/errno.js';
import { isUnder, translateText } from '../common/mount-path.js';
import { MAX_RESPONSE_DEPTH, expandResponseFiles, quoteResponseArg } from '../common/response-file-text.js';
import { InvalidJobError, WorkerUnfitError } from './invalid-job-error.js';

export interface ResponseFiles {
  /** Every argument the compiler will see, response files expanded and translated: what the policy checks and the compiler gets. */
  readonly expanded: string[];
  /** True if any argument was a response file. */
  readonly any: boolean;
}

/**
 * Expands the response files of `argv` (already in this worker's paths) once, throwing
 * InvalidJobError for one that resolves outside the mount or cannot be read. The compiler is
 * then given a private copy of the expanded arguments (writePrivateResponseFile), so it never
 * re-reads a file on the shared tree that could have changed since the check.
 */
export async function resolveResponseFiles(argv: readonly string[], cwd: string, mount: string, from: string, knownRealMount?: string): Promise<ResponseFiles> {
  // Most command lines have none: nothing to read, check or copy.
  if (!argv.some((a, i) => i > 0 && a.startsWith('@'))) return { expanded: [...argv], any: false };
  const realMount = knownRealMount ?? (await realpath(mount));
  /** The translated text of response file `arg`. */
  const read = async (arg: string, depth: number): Promise<string> => {
    let real: string;
    try {
      real = await realpath(path.resolve(cwd, arg.slice(1)));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new WorkerUnfitError(`the response file ${arg} does not exist on this worker`);
      throw new InvalidJobError(`the response file ${arg} cannot be read on this worker (${errnoCode(err) ?? String(err)})`);
    }
    if (!isUnder(real, realMount)) throw new InvalidJobError(`the response file ${arg} resolves to ${real}, outside the mount ${mount}`);
    if (depth >= MAX_RESPONSE_DEPTH) throw new InvalidJobError(`the response file ${arg} nests response files deeper than ${MAX_RESPONSE_DEPTH} levels`);
    try {
      return translateText(await readFile(real, 'utf8'), from, mount);
    } catch (err) {
      throw new InvalidJobError(`the response file ${arg} cannot be read on this worker (${errnoCode(err) ?? String(err)})`);
    }
  };
  return { expanded: await expandResponseFiles(argv, read), any: true };
}

/**
 * Writes `args` into a new response file only this worker's user can read (O_EXCL: never through
 * a planted symlink) and returns its path; the caller deletes it after the run.
 */
export async function writePrivateResponseFile(args: readonly string[], attemptId: string, dir = os.tmpdir()): Promise<string> {
  const file = path.join(dir, `distbuild-${attemptId}.rsp`);
  await writeFile(file, args.map(quoteResponseArg).join('\n') + '\n', { mode: 0o600, flag: 'wx' });
  return file;
}
