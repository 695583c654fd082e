// The dashboard's one HTML page: semantic, accessible markup that /dashboard.js fills from /events.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distbuild farm</title>
<style>
  :root { color-scheme: light; --fg: #1b1b1b; --muted: #4a4a4a; --line: #b8b8b8; --accent: #0b4f9c; --bad: #a4161a; --bg: #ffffff; --panel: #f3f5f8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { background: var(--accent); color: #ffffff; padding: 0.75rem 1.25rem; display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; align-items: baseline; }
  header h1 { margin: 0; font-size: 1.4rem; }
  header p { margin: 0; }
  main { padding: 1rem 1.25rem 2rem; display: grid; gap: 1.5rem; }
  h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
  .counters { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: 0.5rem; margin: 0; }
  .counters div { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 0.4rem 0.6rem; }
  .counters dt { font-size: 0.85rem; color: var(--muted); }
  .counters dd { margin: 0; font-size: 1.5rem; font-variant-numeric: tabular-nums; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  caption { text-align: left; color: var(--muted); padding-bottom: 0.35rem; }
  th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
  thead th { background: var(--panel); }
  td.num, th.num { text-align: right; }
  .bad { color: var(--bad); font-weight: 600; }
  .bad::before { content: "\\26A0\\FE0E  "; }
  meter { width: 5rem; vertical-align: middle; }
  figure { margin: 0; }
  svg { width: 100%; max-width: 40rem; height: 6rem; background: var(--panel); border: 1px solid var(--line); }
  svg polyline { fill: none; stroke: var(--accent); stroke-width: 2; }
  figcaption { color: var(--muted); }
  .empty { color: var(--muted); font-style: italic; }
  a { color: var(--accent); }
  :focus-visible { outline: 3px solid #f5b700; outline-offset: 2px; }
</style>
</head>
<body>
<header>
  <h1>distbuild farm</h1>
  <p>Server <span id="server-state">unknown</span>, version <span id="server-version">?</span>, up <span id="server-uptime">?</span></p>
  <p id="connection" role="status">Connecting to the server…</p>
</header>
<main>
  <section aria-labelledby="jobs-heading">
    <h2 id="jobs-heading">Jobs</h2>
    <dl class="counters" id="counters" aria-live="polite" aria-atomic="false">
      <div><dt id="completed-label">Completed</dt><dd id="completed" aria-labelledby="completed-label">0</dd></div>
      <div><dt>Succeeded</dt><dd id="succeeded">0</dd></div>
      <div><dt>Compile errors</dt><dd id="compile-errors">0</dd></div>
      <div><dt>Failed</dt><dd id="failed">0</dd></div>
      <div><dt>Retries</dt><dd id="retries">0</dd></div>
      <div><dt>Queued</dt><dd id="queued">0</dd></div>
      <div><dt>Running</dt><dd id="running">0</dd></div>
      <div><dt>Locality hit rate</dt><dd id="locality">–</dd></div>
      <div><dt>Cache hit rate</dt><dd id="cache">–</dd></div>
      <div><dt>Clients (running / queued)</dt><dd id="clients">–</dd></div>
    </dl>
  </section>
  <section aria-labelledby="throughput-heading">
    <h2 id="throughput-heading">Throughput</h2>
    <figure>
      <svg id="sparkline" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-labelledby="throughput-caption">
        <polyline id="sparkline-line" points=""></polyline>
      </svg>
      <figcaption id="throughput-caption">Completed jobs per second over the last minute: no data yet.</figcaption>
    </figure>
  </section>
  <section aria-labelledby="workers-heading">
    <h2 id="workers-heading">Workers</h2>
    <table id="workers">
      <caption>Registered workers: <span id="worker-count">0</span>. Slots are running jobs out of the worker's maximum.</caption>
      <thead>
        <tr>
          <th scope="col">Name</th><th scope="col">Address</th><th scope="col">State</th><th scope="col">Slots used / max</th>
          <th scope="col">Links</th><th scope="col">Circuit</th><th scope="col" class="num">Done</th><th scope="col" class="num">Failed</th>
          <th scope="col" class="num">Dirs</th><th scope="col" class="num">Locality hit rate</th>
        </tr>
      </thead>
      <tbody id="worker-rows"><tr><td colspan="10" class="empty">No workers registered.</td></tr></tbody>
    </table>
  </section>
  <section aria-labelledby="running-heading">
    <h2 id="running-heading">Running jobs</h2>
    <table id="running-jobs">
      <caption>Jobs on workers now, oldest first; <span id="queued-caption">0</span> more wait in the queue.</caption>
      <thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Worker</th><th scope="col" class="num">Attempt</th><th scope="col" class="num">Age</th></tr></thead>
      <tbody id="running-rows"><tr><td colspan="5" class="empty">Nothing running.</td></tr></tbody>
    </table>
  </section>
  <p><a href="/metrics">Prometheus metrics</a> · <a href="/status.json">Status as JSON</a></p>
</main>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;
