// Caps on a job's command line (argument count, single argument length), checked by server and worker.
import { OPTIONS } from '../config/options.js';

export interface ArgLimits {
  /** Most arguments (max_job_args). */
  readonly maxJobArgs: number;
  /** Longest single argument in bytes (max_arg_bytes). */
  readonly maxArgBytes: number;
}

/** The defaults of the options table. */
export function defaultArgLimits(): ArgLimits {
  return { maxJobArgs: OPTIONS.maxJobArgs.default, maxArgBytes: OPTIONS.maxArgBytes.default };
}

/** Why `argv` breaks `limits`, naming the cap and its setting; undefined if it does not. */
export function argLimitViolation(argv: readonly string[], limits: ArgLimits, who: 'server' | 'worker'): string | undefined {
  if (argv.length > limits.maxJobArgs) {
    return `the command line has ${argv.length} arguments, more than this ${who}'s limit of ${limits.maxJobArgs} (setting max_job_args)`;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    // No command line can carry a NUL byte (exec would cut the argument there).
    if (arg.includes('\0')) return `argument ${i} ("${arg.slice(0, 32).replaceAll('\0', '\\0')}…") contains a NUL byte, which no command line can carry`;
    // A string's byte length is at most 3 per UTF-16 unit: skip the exact count for short ones.
    if (arg.length * 3 <= limits.maxArgBytes) continue;
    const bytes = Buffer.byteLength(arg);
    if (bytes > limits.maxArgBytes) {
      return `argument ${i} ("${arg.slice(0, 32)}…") is ${bytes} bytes long, more than this ${who}'s limit of ${limits.maxArgBytes} (setting max_arg_bytes)`;
    }
  }
  return undefined;
}
