// The web dashboard's HTTP routes: the page at /, its script, and the status snapshot as server-sent events.
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import type { StatusReply } from '../protocol/messages.js';
import { DASHBOARD_HTML } from './dashboard-page.js';

export interface Dashboard {
  /** Serves `/`, `/dashboard.js`, `/events` and `/status.json`; false for any other path. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** Something changed (a job finished): push a snapshot soon, at most every 250 ms. */
  changed(): void;
  /** Ends every event stream. */
  close(): void;
}

/** Pushed every second while anyone watches, and soon after each change. */
const TICK_MS = 1000;
const CHANGE_DELAY_MS = 250;
/** The client script, bundled by `npm run build` next to the compiled server. */
const SCRIPT = new URL('../dashboard/dashboard.js', import.meta.url);

export function createDashboard(snapshot: () => StatusReply): Dashboard {
  const clients = new Set<http.ServerResponse>();
  let ticker: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let script: Promise<string> | undefined;

  const push = (): void => {
    if (soon !== undefined) clearTimeout(soon);
    soon = undefined;
    if (clients.size === 0) return;
    const frame = `data: ${JSON.stringify(snapshot())}\n\n`;
    for (const res of clients) res.write(frame);
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: ${TICK_MS}\n\n`);
    clients.add(res);
    res.write(`data: ${JSON.stringify(snapshot())}\n\n`);
    ticker ??= setInterval(push, TICK_MS).unref();
    req.once('close', () => {
      clients.delete(res);
      if (clients.size === 0 && ticker !== undefined) {
        clearInterval(ticker);
        ticker = undefined;
      }
    });
  };

  const send = (res: http.ServerResponse, type: string, body: string): void => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  return {
    handle(req, res) {
      if (req.method !== 'GET') return false;
      const url = new URL(req.url ?? '/', 'http://dashboard');
      switch (url.pathname) {
        case '/':
          send(res, 'text/html; charset=utf-8', DASHBOARD_HTML);
          return true;
        case '/dashboard.js':
          (script ??= readFile(SCRIPT, 'utf8')).then(
            (text) => send(res, 'text/javascript; charset=utf-8', text),
            (err: unknown) => {
              script = undefined;
              res.writeHead(500, { 'content-type': 'text/plain' });
              res.end(`the dashboard script is missing (${(err as Error).message}); run npm run build\n`);
            },
          );
          return true;
        case '/status.json':
          send(res, 'application/json', JSON.stringify(snapshot()));
          return true;
        case '/events':
          events(req, res);
          return true;
        default:
          return false;
      }
    },
    changed() {
      if (clients.size > 0) soon ??= setTimeout(push, CHANGE_DELAY_MS);
    },
    close() {
      if (ticker !== undefined) clearInterval(ticker);
      if (soon !== undefined) clearTimeout(soon);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
