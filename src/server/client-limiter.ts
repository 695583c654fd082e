// Counts the jobs each client has in flight, so that one client cannot flood the server (max_jobs_per_client).

export interface ClientLimiter {
  /** Takes `count` jobs for `client`; false (taking none) if that would exceed the cap. */
  tryAcquire(client: string, count: number): boolean;
  release(client: string, count: number): void;
  inFlight(client: string): number;
  readonly max: number;
}

export function createClientLimiter(max: number): ClientLimiter {
  const counts = new Map<string, number>();
  const inFlight = (client: string): number => counts.get(client) ?? 0;
  return {
    max,
    inFlight,
    tryAcquire(client, count) {
      const now = inFlight(client);
      if (now + count > max) return false;
      counts.set(client, now + count);
      return true;
    },
    release(client, count) {
      const left = inFlight(client) - count;
      if (left > 0) counts.set(client, left);
      else counts.delete(client);
    },
  };
}

/** The client's address without its port: "127.0.0.1:5000" → "127.0.0.1", "ipv6:[::1]:5000" → "::1". */
export function clientHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const colon = bare.lastIndexOf(':');
  const host = colon > 0 && !bare.endsWith(']') ? bare.slice(0, colon) : bare;
  return host.replace(/^\[|\]$/g, '');
}
