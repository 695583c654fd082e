// The DNS-SD service type distbuild servers announce on the LAN, and the default address without one.

/** `_distbuild._tcp`, as bonjour-service spells it. */
export const MDNS_SERVICE = { type: 'distbuild', protocol: 'tcp' } as const;

/** Where clients go when no server_addr is set and mDNS finds none (or is off). */
export const DEFAULT_SERVER_ADDR = '127.0.0.1:50051';

/** What a server says about itself in its TXT record. */
export interface ServerTxt {
  readonly version: string;
  /** "yes" when clients must send a token. */
  readonly token: 'yes' | 'no';
  /** "yes" when the server speaks TLS (it does not yet). */
  readonly tls: 'yes' | 'no';
}
