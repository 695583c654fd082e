// The per-user agent: serves clients on a Unix socket, resolves their settings and jobs, and holds the server streams.
import { lstatSync, mkdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { acquireLocalSlot } from '../common/local-slots.js';
import type { Logger } from '../common/logger.js';
import { serverChannelOptions } from '../common/server-channel.js';
import { clientCredentials } from '../common/tls.js';
import { ConfigError } from '../config/config-error.js';
import { findServer } from '../discovery/find-server.js';
import { KEEPALIVE_MS, encodeKeepalive } from '../protocol/agent-frames.js';
import { createSettingsResolver, type LauncherCall } from './client-settings.js';
import { serveClient, type ClientContext } from './serve-client.js';
import { createSubmitter, type Submitter } from './submitter.js';
import { createCacheLookup } from './cache-lookup.js';
import { createCacheStats } from './cache-stats.js';
import { createFileHashes } from '../common/file-hashes.js';

/** How often the agent reports its cache counts to the server. */
const CACHE_REPORT_MS = 500;

export interface AgentOptions {
  readonly socket: string;
  /** Until a client says otherwise (agent_idle_timeout of its settings). */
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
  /** Host-wide local slots (default: the number of CPUs). */
  readonly localSlots?: number;
}

export interface Agent {
  /** Resolves when the agent has stopped (idle timeout or stop()). */
  readonly done: Promise<void>;
  stop(): void;
}

/** Another agent already serves the socket. */
export class AgentAlreadyRunningError extends Error {
  override readonly name = 'AgentAlreadyRunningError';
}

export async function startAgent(options: AgentOptions): Promise<Agent> {
  const { logger } = options;
  const submitters = new Map<string, Submitter>();
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  /** Clients waiting on the agent: each hears a KEEPALIVE at least every KEEPALIVE_MS. */
  const waiting = new Set<net.Socket>();
  let keepalive: NodeJS.Timeout | undefined;
  const setWaiting = (conn: net.Socket, on: boolean): void => {
    if (on) waiting.add(conn);
    else waiting.delete(conn);
    if (waiting.size > 0 && keepalive === undefined) {
      keepalive = setInterval(() => {
        for (const c of waiting) if (!c.destroyed) c.write(encodeKeepalive());
      }, KEEPALIVE_MS);
    } else if (waiting.size === 0 && keepalive !== undefined) {
      clearInterval(keepalive);
      keepalive = undefined;
    }
  };

  /** Where jobs without a server_addr go: looked up once (mDNS) per kind of client (token or not, tls_ca), then kept for the agent's life. */
  const discovered = new Map<string, Promise<string>>();
  /** The server found for jobs without a server_addr, searched once per kind of client. */
  function discover(call: LauncherCall): Promise<string> {
    const { settings } = call;
    const lookup = { serverAddr: undefined, mdns: settings.mdns, discoveryTimeoutMs: settings.discoveryTimeoutMs, sendsToken: call.token !== undefined, tlsCa: settings.tls.ca };
    const key = JSON.stringify(lookup);
    let found = discovered.get(key);
    if (found === undefined) discovered.set(key, (found = findServer(lookup, logger)));
    return found;
  }

  /** One submitter (one stream) per server and the settings that shape its channel and batches. */
  async function submitterFor(call: LauncherCall): Promise<Submitter> {
    const { settings } = call;
    const serverAddr = settings.serverAddr ?? (await discover(call));
    const submitterOptions = {
      serverAddr,
      connectTimeoutMs: settings.connectTimeoutMs,
      reconnectTimeoutMs: settings.reconnectTimeoutMs,
      token: call.token,
      channel: serverChannelOptions(settings),
      batchSize: settings.batchSize,
      batchTimeoutMs: settings.batchTimeoutMs,
    };
    const key = JSON.stringify(submitterOptions);
    let s = submitters.get(key);
    if (s === undefined) {
      clientCredentials(settings.tls); // unreadable TLS files: a ConfigError for this client, not a broken channel
      s = createSubmitter({ ...submitterOptions, logger });
      submitters.set(key, s);
      logger.info(`submitting to ${serverAddr} (${submitters.size} stream(s))`);
    }
    return s;
  }

  let idleTimeoutMs = options.idleTimeoutMs;
  const cacheStats = createCacheStats();
  const ctx: ClientContext = {
    resolver: createSettingsResolver(),
    async submit(call, job, signal) {
      idleTimeoutMs = call.settings.agentIdleTimeoutMs;
      return (await submitterFor(call)).submit(job, signal);
    },
    acquireLocalSlot: (signal) =>
      acquireLocalSlot({ slots: options.localSlots, signal, onOverdue: (message) => logger.warn(message) }),
    logger,
    waiting: setWaiting,
    cache: createCacheLookup(createFileHashes({ syncStat: true })),
    cacheLookedUp(call, hit, ms) {
      cacheStats.record(hit, ms);
      reportCall = call;
      reportTimer ??= setTimeout(() => void sendCacheReport(), CACHE_REPORT_MS).unref();
    },
  };
  /** The counts go to the server of the latest lookup, at most every CACHE_REPORT_MS. */
  let reportCall: LauncherCall | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  async function sendCacheReport(): Promise<void> {
    reportTimer = undefined;
    const report = cacheStats.take();
    if (report === undefined || reportCall === undefined) return;
    try {
      (await submitterFor(reportCall)).report(report);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      logger.debug(`cache counts not reported: ${err.message}`);
    }
  }

  const server = net.createServer((conn) => {
    active++;
    armIdle();
    conn.once('close', () => {
      active--;
      armIdle();
    });
    serveClient(conn, ctx);
  });
  await listenExclusive(server, options.socket);
  const ownInode = statSync(options.socket).ino;
  logger.info(`agent listening on ${options.socket}`);

  function stop(): void {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    if (reportTimer !== undefined) clearTimeout(reportTimer);
    if (keepalive !== undefined) clearInterval(keepalive);
    server.close();
    try {
      if (statSync(options.socket).ino === ownInode) rmSync(options.socket, { force: true });
    } catch (err) {
      logger.debug(`not removing ${options.socket}: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (const s of submitters.values()) s.close();
    submitters.clear();
    logger.info('agent stopped');
    resolveDone();
  }

  function armIdle(): void {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = active === 0 ? setTimeout(stop, idleTimeoutMs) : undefined;
  }

  armIdle();
  return { done, stop };
}

/**
 * The socket's directory, created 0700 if missing. Anyone else's directory, or one others may
 * enter, is refused: whoever controls it could put their own agent in the way.
 */
export function ensureSocketDir(socket: string): void {
  const dir = path.dirname(socket);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o777) !== 0o700) {
    const what = !st.isDirectory() ? 'is not a directory' : st.uid !== uid ? `belongs to uid ${st.uid}, not ${uid}` : `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}`;
    throw new ConfigError(`the agent socket's directory ${dir} ${what}; it must be yours with mode 0700 (remove it, or set --agent-socket / DISTBUILD_AGENT_SOCKET elsewhere)`, 'agentSocket');
  }
}

/** Listens on `socket`, replacing a stale socket file but never a live agent's. */
async function listenExclusive(server: net.Server, socket: string): Promise<void> {
  ensureSocketDir(socket);
  const attempt = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  try {
    await attempt();
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')) throw err;
    const live = await new Promise<boolean>((resolve) => {
      const probe = net.createConnection(socket);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (live) throw new AgentAlreadyRunningError(`an agent already serves ${socket}`);
    rmSync(socket, { force: true });
    await attempt();
  }
}
