// Finds a distbuild server on the LAN by browsing for _distbuild._tcp (mDNS/DNS-SD).
import type { Logger } from '../common/logger.js';
import { DEFAULT_SERVER_ADDR, MDNS_SERVICE } from './mdns-service.js';

/** The settings that decide where the server is. */
export interface ServerLookup {
  readonly serverAddr: string | undefined;
  readonly mdns: boolean;
  readonly discoveryTimeoutMs: number;
  /** This client sends a token: then only a server that proves itself (TLS verified against tls_ca) may be found. */
  readonly sendsToken: boolean;
  readonly tlsCa: string | undefined;
}

/** Why this client must not search the LAN, or undefined: a token never goes to a host that merely answered mDNS. */
function discoveryRefusal(lookup: ServerLookup): string | undefined {
  if (!lookup.sendsToken || lookup.tlsCa !== undefined) return undefined;
  return `not searching the LAN (mDNS) for a server: this client holds a token, which would go to whichever host answers first. Set server_addr, or tls_ca so that the server must prove itself; trying ${DEFAULT_SERVER_ADDR}`;
}

/** HOST:PORT of the first server that answers within `timeoutMs`, or undefined. */
export async function browseForServer(timeoutMs: number, logger: Logger): Promise<string | undefined> {
  const { Bonjour } = await import('bonjour-service');
  const bonjour = new Bonjour({}, (err: Error) => logger.debug(`mDNS: ${err.message}`));
  return new Promise((resolve) => {
    let done = false;
    const finish = (addr: string | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      browser.stop();
      bonjour.destroy();
      resolve(addr);
    };
    const browser = bonjour.find({ ...MDNS_SERVICE }, (service) => {
      const host = service.addresses?.find((a) => !a.includes(':')) ?? service.referer?.address;
      if (host === undefined || !(service.port > 0)) return;
      const addr = `${host.includes(':') ? `[${host}]` : host}:${service.port}`;
      logger.info(`found the server "${service.name}" at ${addr} by mDNS`);
      finish(addr);
    });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
  });
}

/** server_addr if set; else the server mDNS finds (unless mdns = false); else 127.0.0.1:50051. */
export async function findServer(lookup: ServerLookup, logger: Logger): Promise<string> {
  if (lookup.serverAddr !== undefined) return lookup.serverAddr;
  if (!lookup.mdns) return DEFAULT_SERVER_ADDR;
  const refusal = discoveryRefusal(lookup);
  if (refusal !== undefined) {
    logger.warn(refusal);
    return DEFAULT_SERVER_ADDR;
  }
  const found = await browseForServer(lookup.discoveryTimeoutMs, logger);
  if (found !== undefined) return found;
  logger.info(`no server answered on the LAN (mDNS) within ${lookup.discoveryTimeoutMs} ms (setting discovery_timeout); trying ${DEFAULT_SERVER_ADDR}. Set server_addr to skip the search`);
  return DEFAULT_SERVER_ADDR;
}
