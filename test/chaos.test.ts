// One chaos run in the suite: workers SIGKILLed mid-build, yet every output is byte-identical.
import t from 'tap';
import { runChaos } from './soak/chaos.js';

t.test('a real project builds byte-identically while workers are killed and restarted', async (t) => {
  const [run] = await runChaos({ runs: 1 });
  t.ok(run !== undefined);
  if (run === undefined) return;
  t.comment(`${run.kills} kills, ${run.jobs} jobs, ${run.retries} retries, ${run.localFallbacks} local fallbacks, ${run.seconds.toFixed(1)} s`);
  t.ok(run.kills >= 1, 'at least one worker was killed mid-build');
  t.same(run.differing, [], 'every output is byte-identical to the plain build');
  t.same(run.replacedAfterBuild, [], 'no output was replaced after the build finished');
  t.ok(run.jobs >= 40, 'every compile and link went to the farm');
});
