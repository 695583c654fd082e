// The dashboard's browser script: renders each status snapshot that /events pushes (server-sent events).
import type { RunningJob, StatusReply, WorkerStatus } from '../protocol/messages.js';

/** Throughput points kept: one a second or so, about a minute. */
const HISTORY = 60;
/** Snapshots closer together than this (pushed on changes) do not start a new point. */
const POINT_MS = 900;

const byId = <T extends HTMLElement | SVGElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the dashboard page has no #${id}`);
  return el as T;
};

const text = (id: string, value: string): void => {
  const el = byId<HTMLElement>(id);
  if (el.textContent !== value) el.textContent = value;
};

const percent = (rate: number): string => `${Math.round(rate * 100)}%`;

function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function cell(row: HTMLTableRowElement, value: string, options: { header?: boolean; num?: boolean; bad?: boolean } = {}): HTMLTableCellElement {
  const c = document.createElement(options.header === true ? 'th' : 'td');
  if (options.header === true) c.scope = 'row';
  if (options.num === true) c.className = 'num';
  if (options.bad === true) c.classList.add('bad');
  c.textContent = value;
  row.append(c);
  return c;
}

function emptyRow(columns: number, message: string): HTMLTableRowElement {
  const row = document.createElement('tr');
  const c = cell(row, message);
  c.colSpan = columns;
  c.className = 'empty';
  return row;
}

function workerRow(w: WorkerStatus): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.worker = w.name;
  cell(row, w.name, { header: true });
  cell(row, w.address);
  cell(row, w.state, { bad: w.state !== 'running' });
  const slots = cell(row, `${w.running} / ${w.maxJobs} `);
  const meter = document.createElement('meter');
  meter.min = 0;
  meter.max = Math.max(1, w.maxJobs);
  meter.value = w.running;
  meter.setAttribute('aria-label', `${w.name}: ${w.running} of ${w.maxJobs} slots in use`);
  slots.append(meter);
  cell(row, w.canLink ? 'yes' : 'no');
  cell(row, w.circuit === 'closed' ? 'closed' : `${w.circuit} (${w.breakerFailures} failures)`, { bad: w.circuit !== 'closed' });
  cell(row, String(w.completed), { num: true });
  cell(row, String(w.failed), { num: true, bad: w.failed > 0 });
  cell(row, String(w.dirs), { num: true });
  cell(row, percent(w.localityHitRate), { num: true });
  return row;
}

function jobRow(j: RunningJob): HTMLTableRowElement {
  const row = document.createElement('tr');
  cell(row, j.summary, { header: true });
  cell(row, j.kind === 'JOB_KIND_LINK' ? 'link' : 'compile');
  cell(row, j.worker);
  cell(row, String(j.attempt), { num: true });
  cell(row, seconds(j.ageMs), { num: true });
  return row;
}

/** Completed-job counts with their times, for jobs per second between snapshots. */
const history: Array<{ at: number; completed: number }> = [];

function drawThroughput(): void {
  const rates: number[] = [];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1];
    const b = history[i];
    if (a === undefined || b === undefined) continue;
    rates.push(Math.max(0, b.completed - a.completed) / Math.max(0.001, (b.at - a.at) / 1000));
  }
  const line = byId<SVGPolylineElement>('sparkline-line');
  if (rates.length === 0) return;
  const top = Math.max(1, ...rates);
  const step = 300 / Math.max(1, HISTORY - 1);
  const x0 = 300 - (rates.length - 1) * step;
  line.setAttribute('points', rates.map((r, i) => `${(x0 + i * step).toFixed(1)},${(58 - (r / top) * 56).toFixed(1)}`).join(' '));
  const last = rates[rates.length - 1] ?? 0;
  const mean = rates.reduce((s, r) => s + r, 0) / rates.length;
  text('throughput-caption', `Completed jobs per second over the last ${rates.length} updates: now ${last.toFixed(1)}, mean ${mean.toFixed(1)}, peak ${top.toFixed(1)}.`);
}

function render(s: StatusReply): void {
  const t = s.totals;
  const completed = t.succeeded + t.compileErrors + t.failed;
  text('server-state', s.state);
  text('server-version', s.version);
  text('server-uptime', seconds(s.uptimeMs));
  text('completed', String(completed));
  text('succeeded', String(t.succeeded));
  text('compile-errors', String(t.compileErrors));
  text('failed', String(t.failed));
  text('retries', String(t.retries));
  text('queued', String(s.queued));
  text('queued-caption', String(s.queued));
  text('running', String(s.running.length));
  const placed = t.localityHits + t.localityMisses;
  text('locality', placed === 0 ? '–' : `${percent(t.localityHits / placed)} of ${placed}`);
  const looked = t.cacheHits + t.cacheMisses;
  text('cache', looked === 0 ? '–' : `${percent(t.cacheHits / looked)} of ${looked}`);
  text('clients', s.clients.length === 0 ? '–' : s.clients.map((c) => `${c.name} ${c.running} / ${c.queued}`).join(', '));
  text('worker-count', String(s.workers.length));
  const workers = s.workers.map(workerRow);
  byId<HTMLElement>('worker-rows').replaceChildren(...(workers.length > 0 ? workers : [emptyRow(10, 'No workers registered.')]));
  const jobs = [...s.running].sort((a, b) => b.ageMs - a.ageMs).map(jobRow);
  byId<HTMLElement>('running-rows').replaceChildren(...(jobs.length > 0 ? jobs : [emptyRow(5, 'Nothing running.')]));
  const now = Date.now();
  const last = history[history.length - 1];
  if (last !== undefined && now - last.at < POINT_MS) return;
  history.push({ at: now, completed });
  if (history.length > HISTORY + 1) history.shift();
  drawThroughput();
}

const events = new EventSource('/events');
events.onopen = () => text('connection', 'Live: updated every second.');
events.onerror = () => text('connection', 'Connection to the server lost; retrying…');
events.onmessage = (e: MessageEvent<string>) => {
  render(JSON.parse(e.data) as StatusReply);
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? '0') + 1);
};
