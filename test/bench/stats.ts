// Benchmark helpers: medians and percentiles, /proc readings, bash `times` parsing, a seeded PRNG.
import { readFileSync } from 'node:fs';

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (0–100), by linear interpolation between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (rank - lo);
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on Linux). */
export const CLOCK_TICKS = 100;

/** utime + stime of a process, in seconds, from /proc/PID/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat: ${stat}`);
  return (utime + stime) / CLOCK_TICKS;
}

/** A field of /proc/PID/status in KiB, e.g. VmHWM. */
export function statusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (m === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Parses bash's `times` output; returns the children's user + system seconds (its second line). */
export function childrenCpuFromTimes(output: string): number {
  const lines = output.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const children = lines.at(-1);
  if (lines.length < 2 || children === undefined) throw new Error(`cannot parse bash times output: ${output}`);
  let total = 0;
  for (const part of children.trim().split(' ')) {
    const m = /^(\d+)m([\d.]+)s$/.exec(part);
    if (m === null) throw new Error(`cannot parse bash times field "${part}"`);
    total += Number(m[1]) * 60 + Number(m[2]);
  }
  return total;
}

/** Reproducible job durations and draws. */
export { seededRandom } from '../helpers/random.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Lets the event loop poll I/O (e.g. drain child pipes) between synchronous measurements. */
export const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
