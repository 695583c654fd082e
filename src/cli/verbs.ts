// The subcommands `workers list`, `jobs list`, `job status ID`, `scheduler status` and `cache …`, as text or JSON, from the snapshot --status uses.
import type { Settings } from '../config/settings.js';
import type { FinishedJob, RunningJob, StatusReply } from '../protocol/messages.js';
import { cacheCommand, isCacheVerb } from './cache-command.js';
import { formatStatus } from './format-status.js';
import { fetchFarmStatus } from './status-command.js';

/** Every verb phrase, as the shell completes them. */
export const VERB_PHRASES = ['workers list', 'clients list', 'jobs list', 'job status', 'scheduler status', 'cache stats', 'cache trim', 'cache clear'] as const;
/** The first words of the subcommands. */
export const VERB_WORDS = ['workers', 'clients', 'jobs', 'job', 'scheduler', 'cache', 'shell'] as const;
export const isVerbWord = (w: string | undefined): boolean => VERB_WORDS.some((v) => v === w);

export interface VerbOutput {
  readonly text: string;
  readonly code: number;
}

const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
const kindOf = (k: string): string => (k === 'JOB_KIND_LINK' ? 'link' : 'compile');

function workersText(s: StatusReply): string {
  if (s.workers.length === 0) return 'no workers registered\n';
  return table([
    ['WORKER', 'ADDRESS', 'STATE', 'SLOTS', 'RUNNING', 'DONE', 'FAILED', 'CIRCUIT', 'COMPILERS'],
    ...s.workers.map((w) => [w.name, w.address, w.state, String(w.maxJobs), String(w.running), String(w.completed), String(w.failed), w.circuit, String(w.compilers.length)]),
  ]);
}

function jobsText(s: StatusReply): string {
  const rows: string[][] = [['JOB', 'KIND', 'STATE', 'WORKER', 'TIME', 'SUMMARY']];
  for (const j of s.running) rows.push([j.jobId, kindOf(j.kind), `running (attempt ${j.attempt})`, j.worker, seconds(j.ageMs), j.summary]);
  for (const j of s.finished) rows.push([j.jobId, kindOf(j.kind), j.outcome, j.worker || '-', seconds(j.durationMs), j.summary]);
  return rows.length === 1 ? `no jobs running or finished; ${s.queued} queued\n` : table(rows);
}

/** The job with this id (or the only one whose id starts with it), running or finished. */
function findJob(s: StatusReply, id: string): { running: RunningJob } | { finished: FinishedJob } | string {
  const running = s.running.filter((j) => j.jobId.startsWith(id));
  const finished = s.finished.filter((j) => j.jobId.startsWith(id));
  const exact = [...running, ...finished].filter((j) => j.jobId === id);
  const all = exact.length > 0 ? exact : [...running, ...finished];
  if (all.length === 0) return `no job ${id} among the ${s.running.length} running and the ${s.finished.length} last finished (the server keeps the last 100)`;
  if (all.length > 1 && exact.length === 0) return `${all.length} jobs start with ${id}: ${all.map((j) => j.jobId).join(', ')}; give more of the id`;
  const r = running.find((j) => all.includes(j));
  if (r !== undefined) return { running: r };
  const f = finished.find((j) => all.includes(j));
  return f === undefined ? `no job ${id}` : { finished: f };
}

function jobText(j: { running: RunningJob } | { finished: FinishedJob }): string {
  if ('running' in j) {
    const r = j.running;
    return `job ${r.jobId}\n  ${kindOf(r.kind)} ${r.summary}\n  running on ${r.worker} for ${seconds(r.ageMs)} (attempt ${r.attempt})\n`;
  }
  const f = j.finished;
  const exit = f.outcome === 'succeeded' || f.outcome === 'compile error' ? ` with exit code ${f.exitCode}` : '';
  return `job ${f.jobId}\n  ${kindOf(f.kind)} ${f.summary}, from ${f.client}\n  ${f.outcome}${exit} on ${f.worker || 'no worker'} in ${seconds(f.durationMs)}, ` +
    `${seconds(f.finishedAgoMs)} ago, after ${f.attempts} attempt(s)${f.message !== '' ? `\n  ${f.message}` : ''}\n`;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Runs one verb phrase (`workers list`, `job status ID`…) against the server the settings name. */
export async function runVerb(words: readonly string[], settings: Settings): Promise<VerbOutput> {
  const [first, second, third] = words;
  const phrase = `${first ?? ''} ${second ?? ''}`;
  if (first === 'cache') {
    if (!isCacheVerb(second)) return { text: `distbuild: cache needs one of stats, trim, clear\n`, code: 2 };
    return { text: '', code: await cacheCommand(second, settings) };
  }
  if (!VERB_PHRASES.some((p) => p === phrase)) return { text: `distbuild: unknown command "${words.join(' ')}"; the commands: ${VERB_PHRASES.join(', ')}\n`, code: 2 };
  if (phrase === 'job status' && (third === undefined || third === '')) return { text: 'distbuild: job status needs a job id: job status ID\n', code: 2 };
  let s: StatusReply;
  try {
    s = await fetchFarmStatus(settings);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return { text: `distbuild: ${err.message}\n`, code: 1 };
  }
  switch (phrase) {
    case 'workers list':
      return { text: settings.json ? json(s.workers) : workersText(s), code: 0 };
    case 'clients list':
      return {
        text: settings.json ? json(s.clients) : s.clients.length === 0 ? 'no client has jobs queued or running\n' : table([['CLIENT', 'RUNNING', 'QUEUED'], ...s.clients.map((c) => [c.name, String(c.running), String(c.queued)])]),
        code: 0,
      };
    case 'jobs list':
      return { text: settings.json ? json({ queued: s.queued, running: s.running, finished: s.finished }) : jobsText(s), code: 0 };
    case 'job status': {
      const j = findJob(s, third ?? '');
      if (typeof j === 'string') return { text: `distbuild: ${j}\n`, code: 1 };
      return { text: settings.json ? json('running' in j ? { state: 'running', ...j.running } : { state: 'finished', ...j.finished }) : jobText(j), code: 0 };
    }
    default: {
      const scheduler = { state: s.state, version: s.version, uptimeMs: s.uptimeMs, queued: s.queued, running: s.running.length, workers: s.workers.length, totals: s.totals };
      return { text: settings.json ? json(scheduler) : `${formatStatus({ ...s, workers: [] }).split('\n\n')[0] ?? ''}\n`, code: 0 };
    }
  }
}
