// Serves a prom-client registry at /metrics over plain HTTP (localhost by default), plus any extra routes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsHttp {
  readonly port: number;
  close(): void;
}

/** Listens on host:port (port 0: any free one); other paths can be added through `extra`. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): Promise<MetricsHttp> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics' && req.method === 'GET') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics failed: ${(err as Error).message}\n`);
        },
      );
      return;
    }
    if (extra?.(req, res) === true) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`not found: ${req.url ?? ''}; try /metrics\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.close();
      server.closeAllConnections(); // event streams never end by themselves
    },
  };
}
