// The chaos run: a real project builds through 3 workers while workers are SIGKILLed and restarted.
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { artefacts, build, configure, differences } from '../helpers/cmake.js';
import { ROOT, startFarm, type Farm } from '../helpers/farm.js';

export interface ChaosRun {
  readonly run: number;
  readonly kills: number;
  readonly jobs: number;
  readonly retries: number;
  readonly localFallbacks: number;
  readonly differing: string[];
  readonly replacedAfterBuild: string[];
  readonly seconds: number;
}

export interface ChaosOptions {
  readonly runs: number;
  readonly onRun?: (run: ChaosRun) => void;
}

const WORKERS = ['c1', 'c2', 'c3'];

/** Kills a random worker every 0.3–1.5 s and restarts it, until `stop` is aborted. */
async function chaos(farm: Farm, mount: string, stop: AbortSignal): Promise<number> {
  let kills = 0;
  while (!stop.aborted) {
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    if (stop.aborted) break;
    const name = WORKERS[Math.floor(Math.random() * WORKERS.length)] ?? 'c1';
    const victim = farm.workers.get(name);
    if (victim === undefined || victim.exitCode !== null || victim.signalCode !== null) continue;
    const gone = new Promise((r) => victim.once('exit', r));
    victim.kill('SIGKILL');
    kills++;
    await gone;
    await farm.startWorker({ name, mount });
  }
  return kills;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosRun[]> {
  const mount = mkdtempSync(path.join(os.tmpdir(), 'distbuild-chaos-'));
  const farm = await startFarm({ workers: WORKERS.map((name) => ({ name, mount })), serverArgs: ['--lease-timeout=3s'] });
  const results: ChaosRun[] = [];
  try {
    const fetched = await execa('bash', [path.join(ROOT, 'test', 'fixtures', 'debian-source.sh'), 'c-ares=1.18.1-3', mount]);
    const src = fetched.stdout.trim().split('\n').at(-1) ?? '';
    const buildDir = path.join(mount, 'build');
    const reference = path.join(mount, 'reference');
    await configure(src, buildDir, 'Ninja', undefined);
    await build(buildDir, 'Ninja');
    renameSync(buildDir, reference);
    const files = artefacts(reference);
    await configure(src, buildDir, 'Ninja', farm.launcherArgs(mount));
    for (let run = 1; run <= options.runs; run++) {
      await execa('ninja', ['-C', buildDir, '-t', 'clean']);
      const before = await farm.status();
      const started = Date.now();
      const stop = new AbortController();
      const killing = chaos(farm, mount, stop.signal);
      let out;
      try {
        out = await build(buildDir, 'Ninja');
      } finally {
        stop.abort();
      }
      const kills = await killing;
      const seconds = (Date.now() - started) / 1000;
      const inodes = new Map(files.map((f) => [f, statSync(path.join(buildDir, f)).ino]));
      // Let every stray attempt of a killed or cut-off worker end, then look again.
      for (;;) {
        const s = await farm.status();
        if (s.running.length === 0 && s.queued === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const after = await farm.status();
      results.push({
        run,
        kills,
        jobs: after.totals.submitted - before.totals.submitted,
        retries: after.totals.retries - before.totals.retries,
        localFallbacks: out.local.length,
        differing: differences(reference, buildDir, files),
        replacedAfterBuild: files.filter((f) => statSync(path.join(buildDir, f)).ino !== inodes.get(f)),
        seconds,
      });
      options.onRun?.(results[results.length - 1] as ChaosRun);
    }
  } finally {
    await farm.stop();
    rmSync(mount, { recursive: true, force: true });
  }
  return results;
}
