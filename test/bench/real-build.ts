// Metrics 6 and 10: clean builds of Debian source packages through a loopback farm (2 workers × 1 slot) versus plain `ninja -j2`, and with the client side capped.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { configure } from '../helpers/cmake.js';
import { ROOT, childEnv, farmLogs, startFarm, type Farm } from '../helpers/farm.js';
import { inCap, type CpuCap } from './cpu-cap.js';
import type { Distcc } from './distcc.js';
import { warmFarm } from './warm-farm.js';

/**
 * The projects: c-ares (C, 173 jobs of ~0.3 s), libarchive with its tests (C, 684 translation
 * units of ~80 ms: the farm's worst case) and cppcheck (C++, 147 jobs of ~1.5 s).
 */
export const PROJECTS = {
  'c-ares': { package: 'c-ares=1.18.1-3', options: ['-DCARES_STATIC=ON', '-DCARES_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'], target: 1.03 },
  libarchive: { package: 'libarchive=3.6.2-1+deb12u4', options: ['-DENABLE_TEST=ON', '-DCMAKE_BUILD_TYPE=Release'], target: 1.05 },
  cppcheck: { package: 'cppcheck=2.10-2', options: ['-DBUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'], target: 1.03 },
} as const;
export type ProjectName = keyof typeof PROJECTS;
export const isProjectName = (name: string): name is ProjectName => Object.hasOwn(PROJECTS, name);

export interface RealBuild {
  readonly project: ProjectName;
  readonly farm: Farm;
  readonly src: string;
  /** The same build directory path for every build. */
  readonly buildDir: string;
  agentPid(): number;
  stop(): Promise<void>;
}

export async function startRealBuild(project: ProjectName): Promise<RealBuild> {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-bench-real-'));
  let farm: Farm | undefined;
  const stop = async (): Promise<void> => {
    await farm?.stop();
    rmSync(mount, { recursive: true, force: true });
  };
  try {
    const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), PROJECTS[project].package, mount]);
    const src = fetched.stdout.trim().split('\n').at(-1) ?? '';
    const workerArgs = ['--log-level=info'];
    farm = await startFarm({
      workers: [{ name: 'w1', mount, maxJobs: 1, args: workerArgs }, { name: 'w2', mount, maxJobs: 1, args: workerArgs }],
      serverArgs: ['--log-level=info'],
    });
    // Start the per-user agent now, as a previous build would have: its start is not part of a build.
    const work = path.join(mount, 'warm');
    mkdirSync(work);
    writeFileSync(path.join(work, 'a.c'), '');
    const [exe = '', ...flags] = farm.launcherArgs(mount);
    const warm = await execa(exe, [...flags, '--verbose', '--compiler', '--', '/bin/true', '-c', 'a.c', '-o', 'a.o'], { cwd: work, reject: false });
    if (warm.exitCode !== 0 || !/\[remote /.test(warm.stderr)) throw new Error(`warm-up job failed: ${warm.stderr}\n${farmLogs(farm)}`);
    // A farm that has run for a while, as farms do: their hot paths compiled.
    await warmFarm(farm, mount);
    const pidFile = path.join(path.dirname(farm.agentSocket), 'agent.pid');
    return { project, farm, src, buildDir: path.join(mount, 'build'), stop, agentPid: () => Number(readFileSync(pidFile, 'utf8')) };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface NinjaRun {
  readonly seconds: number;
  readonly remote: number;
  readonly local: number;
  readonly steps: number;
}

export type BuildKind = 'plain' | 'farm' | 'distcc';

/** Cleans and configures the build dir (not timed), then times `ninja -jN` (inside `cap`, if given). */
export async function cleanBuild(rb: RealBuild, kind: BuildKind, jobs: number, cap?: CpuCap, distcc?: Distcc): Promise<NinjaRun> {
  rmSync(rb.buildDir, { recursive: true, force: true });
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  const options: string[] = [...PROJECTS[rb.project].options];
  if (kind === 'distcc') options.push('-DCMAKE_C_COMPILER_LAUNCHER=distcc', '-DCMAKE_CXX_COMPILER_LAUNCHER=distcc');
  // The farm's own cost, without the result cache: repeated runs would otherwise be hits.
  await configure(rb.src, rb.buildDir, 'Ninja', kind === 'farm' ? rb.farm.launcherArgs(path.dirname(rb.buildDir), ['--cache=false']) : undefined, options);
  const ninja = ['ninja', '-C', rb.buildDir, `-j${jobs}`];
  const argv = cap === undefined ? ninja : inCap(cap, ninja);
  const env = { ...childEnv(), ...(distcc?.env ?? {}) };
  const start = process.hrtime.bigint();
  const r = await execa(argv[0] ?? 'ninja', argv.slice(1), { all: true, reject: false, env, extendEnv: false });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (kind !== 'plain') writeFileSync(path.join(ROOT, 'test-artifacts', `bench-ninja-${rb.project}-${kind}${cap === undefined ? '' : '-capped'}-j${jobs}.log`), r.all);
  if (r.exitCode !== 0) throw new Error(`ninja -j${jobs} (${kind}) failed (${r.exitCode}):\n${r.all.slice(-4000)}`);
  const lines = r.all.split('\n');
  const steps = Math.max(0, ...lines.map((l) => Number(/^\[\d+\/(\d+)\]/.exec(l)?.[1] ?? 0)));
  return { seconds, remote: lines.filter((l) => l.includes('[remote ')).length, local: lines.filter((l) => l.includes('[local:')).length, steps };
}

export interface RealBuildRun {
  readonly plain: NinjaRun;
  readonly farmJ2: NinjaRun;
  readonly farmJ4?: NinjaRun;
  /** The farm build with ninja, the clients and the agent in `cap`. */
  readonly farmCapped?: NinjaRun;
  /** Debian's distcc (distccd on loopback, 2 slots) with ninja and the clients in `cap`. */
  readonly distccCapped?: NinjaRun;
}

export interface RealBuildOptions {
  readonly withJ4: boolean;
  readonly cap?: CpuCap;
  readonly distcc?: Distcc;
}

/** One run: plain `ninja -j2`, then the farm with `ninja -j2` (and `-j4`, and capped), back to back in the same build dir. */
export async function measureRealBuild(rb: RealBuild, o: RealBuildOptions): Promise<RealBuildRun> {
  const plain = await cleanBuild(rb, 'plain', 2);
  const farmJ2 = await cleanBuild(rb, 'farm', 2);
  const farmJ4 = o.withJ4 ? await cleanBuild(rb, 'farm', 4) : undefined;
  let farmCapped: NinjaRun | undefined;
  let distccCapped: NinjaRun | undefined;
  if (o.cap !== undefined) {
    // The running agent joins the cap for the capped build, and leaves it after.
    const agent = rb.agentPid();
    o.cap.add(agent);
    try {
      farmCapped = await cleanBuild(rb, 'farm', 2, o.cap);
    } finally {
      o.cap.release(agent);
    }
    if (o.distcc !== undefined) distccCapped = await cleanBuild(rb, 'distcc', 2, o.cap, o.distcc);
  }
  rmSync(rb.buildDir, { recursive: true, force: true });
  return { plain, farmJ2, ...(farmJ4 === undefined ? {} : { farmJ4 }), ...(farmCapped === undefined ? {} : { farmCapped }), ...(distccCapped === undefined ? {} : { distccCapped }) };
}
