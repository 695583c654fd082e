// Brings a fresh bench farm to a long-running one's state: V8 has compiled its hot paths after some thousand jobs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { childEnv, type Farm } from '../helpers/farm.js';

/**
 * Runs `jobs` no-op compiles through the farm's client, `parallel` at a time (ninja), in a scratch
 * directory of `mount`, with a compile's usual flags (-I, -D, a depfile) so that every path of a
 * real job is taken.
 */
export async function warmFarm(farm: Farm, mount: string, jobs = 3000, parallel = 8): Promise<void> {
  const dir = mkdtempSync(path.join(mount, 'warm-farm-'));
  try {
    mkdirSync(path.join(dir, 'o'));
    const [exe = '', ...flags] = farm.launcherArgs(mount);
    const edges = Array.from({ length: jobs }, (_, i) => `build o/w${i}.o: cc s.c`);
    writeFileSync(path.join(dir, 's.c'), '');
    const cflags = `-DHAVE_CONFIG_H -I${dir} -I${dir}/o -O2 -DNDEBUG -Wall -MD -MT $out -MF $out.d`;
    writeFileSync(path.join(dir, 'build.ninja'), ['rule cc', `  command = ${exe} --compiler ${flags.join(' ')} -- /bin/true ${cflags} -o $out -c ${dir}/$in`, ...edges, ''].join('\n'));
    const r = await execa('ninja', ['-C', dir, `-j${parallel}`], { reject: false, all: true, env: childEnv(), extendEnv: false });
    if (r.exitCode !== 0) throw new Error(`warming the farm failed:\n${r.all.slice(-2000)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
