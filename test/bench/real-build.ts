// Metric 6: a clean build of a Debian source package through a loopback farm (2 workers × 1 slot) versus plain `ninja -j2`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { configure } from '../helpers/cmake.js';
import { ROOT, farmLogs, startFarm, type Farm } from '../helpers/farm.js';

/** The projects metric 6 can build: c-ares (C, small translation units: the farm's worst case) and cppcheck (C++, typical ones). */
export const PROJECTS = {
  'c-ares': { package: 'c-ares=1.18.1-3', options: ['-DCARES_STATIC=ON', '-DCARES_BUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'] },
  cppcheck: { package: 'cppcheck=2.10-2', options: ['-DBUILD_TESTS=ON', '-DCMAKE_BUILD_TYPE=Release'] },
} as const;
export type ProjectName = keyof typeof PROJECTS;
export const isProjectName = (name: string): name is ProjectName => Object.hasOwn(PROJECTS, name);

export interface RealBuild {
  readonly project: ProjectName;
  readonly farm: Farm;
  readonly src: string;
  /** The same build directory path for every build. */
  readonly buildDir: string;
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
    const warm = await execa(exe, [...flags, '--verbose', '--compiler', '--', '/bin/true', '-c', 'a.c', '-o', 'a.o'],
      { cwd: work, reject: false });
    if (warm.exitCode !== 0 || !/\[remote /.test(warm.stderr)) throw new Error(`warm-up launcher failed: ${warm.stderr}\n${farmLogs(farm)}`);
    return { project, farm, src, buildDir: path.join(mount, 'build'), stop };
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

/** Cleans and configures the build dir (not timed), then times `ninja -jN`. */
async function cleanBuild(rb: RealBuild, launcher: readonly string[] | undefined, jobs: number): Promise<NinjaRun> {
  rmSync(rb.buildDir, { recursive: true, force: true });
  mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await configure(rb.src, rb.buildDir, 'Ninja', launcher, PROJECTS[rb.project].options);
  const start = process.hrtime.bigint();
  const r = await execa('ninja', ['-C', rb.buildDir, `-j${jobs}`], { all: true, reject: false });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (launcher !== undefined) writeFileSync(path.join(ROOT, 'test-artifacts', `bench-ninja-${rb.project}-farm-j${jobs}.log`), r.all);
  if (r.exitCode !== 0) throw new Error(`ninja -j${jobs} failed (${r.exitCode}):\n${r.all.slice(-4000)}`);
  const lines = r.all.split('\n');
  const steps = Math.max(0, ...lines.map((l) => Number(/^\[\d+\/(\d+)\]/.exec(l)?.[1] ?? 0)));
  return {
    seconds,
    remote: lines.filter((l) => l.includes('[remote ')).length,
    local: lines.filter((l) => l.includes('[local:')).length,
    steps,
  };
}

export interface RealBuildRun {
  readonly plain: NinjaRun;
  readonly farmJ2: NinjaRun;
  readonly farmJ4?: NinjaRun;
}

/** One run: plain `ninja -j2`, then the farm with `ninja -j2` (and `-j4`), back to back in the same build dir. */
export async function measureRealBuild(rb: RealBuild, withJ4: boolean): Promise<RealBuildRun> {
  const launcher = rb.farm.launcherArgs(path.dirname(rb.buildDir));
  const plain = await cleanBuild(rb, undefined, 2);
  const farmJ2 = await cleanBuild(rb, launcher, 2);
  const farmJ4 = withJ4 ? await cleanBuild(rb, launcher, 4) : undefined;
  rmSync(rb.buildDir, { recursive: true, force: true });
  return { plain, farmJ2, farmJ4 };
}
