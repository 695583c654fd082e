// Renders a StatusReply as a text table, like distccmon-text.
import type { StatusReply } from '../protocol/messages.js';

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function formatStatus(s: StatusReply): string {
  const t = s.totals;
  const lines: string[] = [];
  lines.push(`server ${s.state}, version ${s.version}, up ${Math.round(s.uptimeMs / 1000)}s`);
  lines.push(`queue ${s.queued}, running ${s.running.length}; submitted ${t.submitted}, succeeded ${t.succeeded}, compile errors ${t.compileErrors}, failed ${t.failed}, retries ${t.retries} (${t.compiles} compiles, ${t.links} links)`);
  const placed = t.localityHits + t.localityMisses;
  if (placed > 0) lines.push(`locality: ${Math.round((100 * t.localityHits) / placed)}% of ${placed} placements went to a worker warm in the job's source directory`);
  if (s.clients.length > 0) lines.push(`clients: ${s.clients.map((c) => `${c.name} ${c.running} running, ${c.queued} queued`).join('; ')}`);
  const looked = t.cacheHits + t.cacheMisses;
  if (looked > 0) lines.push(`cache: ${Math.round((100 * t.cacheHits) / looked)}% of ${looked} lookups hit (${t.cacheHits} answered from the cache)`);
  lines.push('');
  if (s.workers.length === 0) {
    lines.push('no workers registered');
  } else {
    const rows = [['WORKER', 'ADDRESS', 'STATE', 'CIRCUIT', 'SLOTS', 'LINKS', 'DONE', 'FAILED', 'COMPILES', 'LINKED', 'DIRS', 'LOCALITY']];
    for (const w of s.workers) {
      rows.push([
        w.name, w.address, w.state, w.circuit, `${w.running}/${w.maxJobs}`, w.canLink ? 'yes' : 'no', String(w.completed), String(w.failed),
        String(w.compiles), String(w.links), String(w.dirs), `${Math.round(w.localityHitRate * 100)}%`,
      ]);
    }
    lines.push(table(rows));
    // A worker whose compiler is not the clients' gets none of their jobs: say which and why.
    for (const w of s.workers.filter((x) => x.compilerMismatches > 0)) {
      const ids = w.compilers.filter((c) => c.identity !== '').map((c) => `${c.name} "${c.identity}"`).join(', ');
      lines.push(`${w.name}: ${w.compilerMismatches} jobs kept away, its compiler is not the client's (it has ${ids || 'no identified compiler'})`);
    }
  }
  if (s.running.length > 0) {
    lines.push('');
    const rows = [['RUNNING', 'KIND', 'WORKER', 'ATTEMPT', 'AGE']];
    for (const j of s.running) rows.push([j.summary, j.kind === 'JOB_KIND_LINK' ? 'link' : 'compile', j.worker, String(j.attempt), `${(j.ageMs / 1000).toFixed(1)}s`]);
    lines.push(table(rows));
  }
  return `${lines.join('\n')}\n`;
}
