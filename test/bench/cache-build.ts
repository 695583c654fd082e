// Metric 11: the result cache on a real C++ project: a warm rebuild after rm -rf build through the farm, against its cold build and against Debian's ccache.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { configure } from '../helpers/cmake.js';
import { childEnv } from '../helpers/farm.js';
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
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function entries(dir: string): number {
  let n = 0;
  for (const shard of readdirSync(dir, { withFileTypes: true })) {
    if (shard.isDirectory()) n += readdirSync(path.join(dir, shard.name)).filter((f) => f.endsWith('.entry')).length;
  }
  return n;
}

async function timedBuild(rb: RealBuild, launcher: 'farm' | 'ccache', env: Record<string, string>): Promise<{ seconds: number; output: string }> {
  rmSync(rb.buildDir, { recursive: true, force: true });
  const options: string[] = [...PROJECTS[rb.project].options];
  if (launcher === 'ccache') options.push('-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache');
  await configure(rb.src, rb.buildDir, 'Ninja', launcher === 'farm' ? rb.farm.launcherArgs(path.dirname(rb.buildDir), ['--verbose']) : undefined, options);
  const start = process.hrtime.bigint();
  const r = await execa('ninja', ['-C', rb.buildDir, '-j2'], { all: true, reject: false, env: { ...childEnv(), ...env }, extendEnv: false });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.exitCode !== 0) throw new Error(`ninja (${launcher}) failed (${r.exitCode}):\n${r.all.slice(-4000)}`);
  return { seconds, output: r.all };
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
  const deadline = Date.now() + 60_000;
  while (entries(cacheDir) < compiles && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const agent = rb.agentPid();
  const agentBefore = cpuMs(agent);
  const warm = await timedBuild(rb, 'farm', {});
  const agentMs = cpuMs(agent) - agentBefore;
  const hits = warm.output.split('\n').filter((l) => l.startsWith('[cache ')).length;
  const ccacheEnv = { CCACHE_DIR: ccacheDir, CCACHE_DIRECT: '1' };
  const ccacheCold = await timedBuild(rb, 'ccache', ccacheEnv);
  const ccacheWarm = await timedBuild(rb, 'ccache', ccacheEnv);
  rmSync(rb.buildDir, { recursive: true, force: true });
  return { farmCold: cold.seconds, farmWarm: warm.seconds, ccacheCold: ccacheCold.seconds, ccacheWarm: ccacheWarm.seconds, hits, compiles, agentMsPerHit: hits === 0 ? Number.NaN : agentMs / hits };
}
