// Announces a running server on the LAN as _distbuild._tcp (mDNS/DNS-SD), until stopped.
import os from 'node:os';
import type { Logger } from '../common/logger.js';
import { MDNS_SERVICE, type ServerTxt } from './mdns-service.js';

export interface ServerAnnouncement {
  /** Sends goodbye packets and closes the mDNS socket. */
  stop(): Promise<void>;
}

export async function announceServer(port: number, txt: ServerTxt, logger: Logger): Promise<ServerAnnouncement> {
  const { Bonjour } = await import('bonjour-service');
  const bonjour = new Bonjour({}, (err: Error) => logger.warn(`mDNS: ${err.message} (set mdns = false to stop announcing)`));
  const name = `distbuild-${os.hostname().replace(/\./g, '-')}-${port}`;
  const service = bonjour.publish({ name, ...MDNS_SERVICE, port, txt: { ...txt }, disableIPv6: true });
  service.on('up', () => logger.info(`announced on the LAN by mDNS as "${name}" (_distbuild._tcp, port ${port})`));
  service.on('error', (err: Error) => logger.warn(`mDNS announcement failed: ${err.message}`));
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
      });
      return stopped;
    },
  };
}
