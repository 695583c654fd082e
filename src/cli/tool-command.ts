// `distbuild make …` and `distbuild ninja …`: the build tool with every compile sent to the farm, and a one-line summary at the end.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { envName, type OptionKey } from '../config/options.js';
import type { Settings } from '../config/settings.js';
import { writeMasquerade } from './masquerade.js';
import { fetchFarmStatus } from './status-command.js';

export const TOOLS = ['make', 'ninja'] as const;
export type Tool = (typeof TOOLS)[number];
export const isTool = (v: string | undefined): v is Tool => TOOLS.some((t) => t === v);

/** A launcher's verbose line: where a job ran, or why it ran locally. */
const VERBOSE_LINE = /^\[(remote \S+ [\d.]+s|local: .*|cache [\d.]+s|cache miss: .*)\] /;

interface Counts {
  remote: number;
  local: number;
  cached: number;
}

/** The farm's free slots now, or undefined if the server cannot be asked. */
async function freeSlots(settings: Settings): Promise<number | undefined> {
  try {
    const status = await fetchFarmStatus(settings);
    return status.workers.filter((w) => w.state === 'running').reduce((n, w) => n + Math.max(0, w.maxJobs - w.running), 0);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return undefined;
  }
}

const hasJobsFlag = (args: readonly string[], makeflags: string): boolean =>
  args.some((a) => /^-j\d*$|^--jobs(=|$)/.test(a)) || /(^|\s)-j\d*|--jobs/.test(makeflags);

/**
 * Runs the tool with a masquerade directory first on PATH and CC/CXX in it, passes the wrapper's
 * own flags on to every launcher as DISTBUILD_* variables, and sizes make's -j to the farm.
 */
export async function toolCommand(tool: Tool, args: readonly string[], settings: Settings, given: ReadonlyMap<OptionKey, unknown>): Promise<number> {
  const started = performance.now();
  const dir = path.join(path.dirname(settings.agentSocket), 'masquerade');
  await writeMasquerade(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, DISTBUILD_VERBOSE: 'true' };
  for (const [key, value] of given) if (key !== 'verbose') env[envName(key)] = Array.isArray(value) ? value.join(',') : String(value);
  env.CC = path.join(dir, path.basename(process.env.CC ?? 'cc'));
  env.CXX = path.join(dir, path.basename(process.env.CXX ?? 'c++'));
  const argv = [...args];
  if (tool === 'make' && !hasJobsFlag(args, process.env.MAKEFLAGS ?? '')) argv.unshift(`-j${(await freeSlots(settings)) || os.availableParallelism()}`);
  const counts: Counts = { remote: 0, local: 0, cached: 0 };
  const child = spawn(tool, argv, { env, stdio: ['inherit', 'inherit', 'pipe'] });
  const lines = readline.createInterface({ input: child.stderr, crlfDelay: Infinity });
  lines.on('line', (line) => {
    const m = VERBOSE_LINE.exec(line);
    if (m === null) {
      process.stderr.write(`${line}\n`);
      return;
    }
    const what = m[1] ?? '';
    if (what.startsWith('remote')) counts.remote++;
    else if (what.startsWith('local')) counts.local++;
    else if (/^cache \d/.test(what)) counts.cached++;
    if (settings.verbose) process.stderr.write(`${line}\n`);
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | Error>((resolve) => {
    child.once('error', resolve);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (exit instanceof Error) {
    process.stderr.write(`distbuild: cannot run ${tool}: ${exit.message}${'code' in exit && exit.code === 'ENOENT' ? ` (is ${tool} installed?)` : ''}\n`);
    return 127;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`distbuild: ${tool}: ${counts.remote} jobs remote, ${counts.local} local, ${counts.cached} from the cache, in ${seconds}s\n`);
  return exit.code ?? 128 + (os.constants.signals[exit.signal ?? 'SIGTERM'] ?? 15);
}
