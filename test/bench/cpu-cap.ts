// A CPU cap for the client side of a benchmark build: a cgroup (v1, /sys/fs/cgroup/cpu) with a CFS quota.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup/cpu';

export interface CpuCap {
  /** The cgroup's directory. */
  readonly dir: string;
  readonly cpus: number;
  /** Moves a process (all its threads) into the cap; its later children start there. */
  add(pid: number): void;
  /** Moves a process back to the root group. */
  release(pid: number): void;
  remove(): void;
}

/** Why a cap cannot be made here, or undefined. */
export function cpuCapUnavailable(): string | undefined {
  if (!existsSync(path.join(ROOT, 'cpu.cfs_quota_us'))) return `no cgroup v1 cpu controller at ${ROOT}`;
  if (process.getuid?.() !== 0) return 'making a cgroup needs root';
  return undefined;
}

/** A cgroup limited to `cpus` CPUs (0.5: half of one) by a 100 ms CFS period. */
export function createCpuCap(name: string, cpus: number): CpuCap {
  const dir = path.join(ROOT, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'cpu.cfs_period_us'), '100000');
  writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(cpus * 100_000)));
  return {
    dir,
    cpus,
    add: (pid) => writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)),
    release: (pid) => writeFileSync(path.join(ROOT, 'cgroup.procs'), String(pid)),
    remove: () => rmdirSync(dir),
  };
}

/** argv that runs `argv` inside the cap: the shell joins the cgroup, then becomes the command. */
export function inCap(cap: CpuCap, argv: readonly string[]): string[] {
  return ['sh', '-c', `echo $$ > ${path.join(cap.dir, 'cgroup.procs')} && exec "$@"`, 'sh', ...argv];
}
