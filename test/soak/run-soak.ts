// `npm run soak`: the chaos run, 10 times in a row by default (`npm run soak -- 3` for fewer).
import { runChaos } from './chaos.js';

const runs = Number(process.argv[2] ?? 10);
let failed = 0;
const results = await runChaos({
  runs,
  onRun: (r) => {
    const ok = r.differing.length === 0 && r.replacedAfterBuild.length === 0;
    if (!ok) failed++;
    process.stdout.write(
      `run ${r.run}/${runs}: ${ok ? 'ok' : 'FAILED'} in ${r.seconds.toFixed(1)} s; ${r.kills} workers killed, ${r.jobs} jobs, ` +
        `${r.retries} retries, ${r.localFallbacks} local fallbacks` +
        `${r.differing.length > 0 ? `; differing: ${r.differing.join(' ')}` : ''}${r.replacedAfterBuild.length > 0 ? `; replaced after the build: ${r.replacedAfterBuild.join(' ')}` : ''}\n`,
    );
  },
});
process.stdout.write(`${results.length - failed} of ${runs} runs passed\n`);
process.exitCode = failed === 0 && results.length === runs ? 0 : 1;
