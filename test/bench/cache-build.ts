// Metric 11: the result cache on a real C++ project: a warm rebuild after rm -rf build through the farm, against its cold build and against Debian's ccache.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { configure } from '../helpers/cmake.js';
import { childEnv } from '../helpers/farm.js';
import { waitForEntries } from '../helpers/cache.js';
import { PROJECTS, type RealBuild } from './real-build.js';

export interface CacheRun {
  readonly farmCold: number;
  readonly farmWarm: number;
  readonly ccacheCold: number;
  readonly ccacheWarm: number;
  readonly hits: number;
  readonly compiles: number;
  /** The agent's CPU per hit during the warm build, ms. */
  readonly agentMsPerHit: number;
  /** The CPU of ninja and the clients per hit during the warm build, ms (the links' clients included). */
  readonly clientMsPerHit: number;
  /** The same for ccache's warm build: ninja and ccache per hit. */
  readonly ccacheMsPerHit: number;
  /** The median of the hits' own times as --verbose prints them (the agent's wall time per lookup: a bound on its CPU), ms. */
  readonly medianHitMs: number;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}


async function timedBuild(rb: RealBuild, launcher: 'farm' | 'ccache', env: Record<string, string>): Promise<{ seconds: number; output: string; childrenCpuMs: number }> {
  rmSync(rb.buildDir, { recursive: true, force: true });
  const options: string[] = [...PROJECTS[rb.project].options];
  if (launcher === 'ccache') options.push('-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache');
  await configure(rb.src, rb.buildDir, 'Ninja', launcher === 'farm' ? rb.farm.launcherArgs(path.dirname(rb.buildDir), ['--verbose']) : undefined, options);
  const start = process.hrtime.bigint();
  // bash's `times` gives the CPU of ninja and everything it ran (the clients, the compilers).
  const script = `ninja -C '${rb.buildDir}' -j2; rc=$?; times >&2; exit $rc`;
  const r = await execa('bash', ['-c', script], { all: true, reject: false, env: { ...childEnv(), ...env }, extendEnv: false });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.exitCode !== 0) throw new Error(`ninja (${launcher}) failed (${r.exitCode}):\n${r.all.slice(-4000)}`);
  const children = r.stderr.trim().split('\n').at(-1) ?? '';
  const ms = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return { seconds, output: r.all, childrenCpuMs: ms };
}

/** Cold and warm builds through the farm's cache, then through ccache (CCACHE_DIR on the same mount, direct mode), from empty caches. */
export async function measureCache(rb: RealBuild): Promise<CacheRun> {
  const mount = path.dirname(rb.buildDir);
  const cacheDir = path.join(mount, '.distbuild-cache');
  const ccacheDir = path.join(mount, '.ccache');
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(ccacheDir, { recursive: true, force: true });
  const cold = await timedBuild(rb, 'farm', {});
  const compiles = cold.output.split('\n').filter((l) => l.startsWith('[remote ') && !/\.(a|so[.\d]*)$|\/[^./]+$/.test(l)).length;
  // Stores follow the results: let them land before the warm build.
  await waitForEntries(cacheDir, compiles, 60_000);
  const agent = rb.agentPid();
  const agentBefore = cpuMs(agent);
  const warm = await timedBuild(rb, 'farm', {});
  const agentMs = cpuMs(agent) - agentBefore;
  const hitTimes = warm.output.split('\n').map((l) => /^\[cache ([\d.]+)s\] /.exec(l)?.[1]).filter((v): v is string => v !== undefined).map((v) => Number(v) * 1000).sort((a, b) => a - b);
  const hits = hitTimes.length;
  // ccache's manual: precompiled headers (cppcheck's CMake uses them) need this sloppiness.
  const ccacheEnv = { CCACHE_DIR: ccacheDir, CCACHE_DIRECT: '1', CCACHE_SLOPPINESS: 'pch_defines,time_macros' };
  const ccacheCold = await timedBuild(rb, 'ccache', ccacheEnv);
  const ccacheWarm = await timedBuild(rb, 'ccache', ccacheEnv);
  rmSync(rb.buildDir, { recursive: true, force: true });
  const per = (ms: number): number => (hits === 0 ? Number.NaN : ms / hits);
  return {
    farmCold: cold.seconds, farmWarm: warm.seconds, ccacheCold: ccacheCold.seconds, ccacheWarm: ccacheWarm.seconds, hits, compiles,
    agentMsPerHit: per(agentMs), clientMsPerHit: per(warm.childrenCpuMs), ccacheMsPerHit: compiles === 0 ? Number.NaN : ccacheWarm.childrenCpuMs / compiles,
    medianHitMs: hitTimes[Math.floor(hitTimes.length / 2)] ?? Number.NaN,
  };
}
