// --status as text: every worker column, the queue depth, running jobs with their age, and the totals.
import t from 'tap';
import { formatStatus } from '../src/cli/format-status.js';
import type { StatusReply, WorkerStatus } from '../src/protocol/messages.js';

const worker = (name: string, over: Partial<WorkerStatus>): WorkerStatus => ({
  id: name, name, address: '10.0.0.5:41000', state: 'running', running: 1, maxJobs: 4, canLink: true, completed: 12, failed: 0,
  compiles: 10, links: 2, compilers: [], memoryTotalBytes: 0, memoryFreeBytes: 0, connectedMs: 5000, hostname: name,
  circuit: 'closed', dirs: 7, localityHitRate: 0.75, breakerFailures: 0, compilerMismatches: 0, ...over,
});

const status: StatusReply = {
  state: 'running',
  version: '0.1.0',
  uptimeMs: 61_000,
  queued: 3,
  workers: [worker('alpha', {}), worker('beta', { address: '10.0.0.6:41001', state: 'draining', running: 0, maxJobs: 2, canLink: false, failed: 3, circuit: 'open', dirs: 0, localityHitRate: 0, compilerMismatches: 5 })],
  running: [{ jobId: 'j1', kind: 'JOB_KIND_COMPILE', worker: 'alpha', ageMs: 2500, summary: 'src/a.c', attempt: 1, client: '10.0.0.9#1' }],
  clients: [{ name: '10.0.0.9#1', queued: 3, running: 1 }],
  finished: [
    { jobId: 'j0', kind: 'JOB_KIND_COMPILE', worker: 'beta', summary: 'src/b.c', outcome: 'compile error', exitCode: 1, durationMs: 120, finishedAgoMs: 3000, client: 'dev:42', message: '', attempts: 1 },
  ],
  totals: { submitted: 20, succeeded: 14, compileErrors: 1, failed: 2, retries: 1, compiles: 17, links: 3, localityHits: 9, localityMisses: 3, cacheHits: 30, cacheMisses: 10 },
};

t.test('the text status names everything an operator asks about', async (t) => {
  const text = formatStatus(status);
  const lines = text.split('\n');
  t.match(lines[0], /^server running, version 0\.1\.0, up 61s$/);
  t.match(text, /queue 3, running 1; submitted 20, succeeded 14, compile errors 1, failed 2, retries 1 \(17 compiles, 3 links\)/, 'queue depth and totals');
  t.match(text, /locality: 75% of 12 placements/, "the farm's locality hit rate");
  t.match(text, /cache: 75% of 40 lookups hit/, "the farm's cache hit rate");
  t.match(text, /clients: 10\.0\.0\.9#1 1 running, 3 queued/, "each client's share");
  t.match(text, /beta: 5 jobs kept away, its compiler is not the client's/, 'a compiler mismatch');
  const header = lines.find((l) => l.startsWith('WORKER')) ?? '';
  for (const column of ['ADDRESS', 'STATE', 'CIRCUIT', 'SLOTS', 'LINKS', 'DONE', 'FAILED', 'DIRS', 'LOCALITY']) t.match(header, column, `a ${column} column`);
  t.match(text, /^alpha\s+10\.0\.0\.5:41000\s+running\s+closed\s+1\/4\s+yes\s+12\s+0\s+10\s+2\s+7\s+75%$/m, 'a running worker, every column');
  t.match(text, /^beta\s+10\.0\.0\.6:41001\s+draining\s+open\s+0\/2\s+no\s+12\s+3\s+10\s+2\s+0\s+0%$/m, 'a draining, benched worker that does not link');
  t.match(text, /^src\/a\.c\s+compile\s+alpha\s+1\s+2\.5s$/m, 'running jobs with their worker, attempt and age');
});
