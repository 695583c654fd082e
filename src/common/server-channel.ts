// The one way clients (agent, worker, --status) open a gRPC channel to the server: TLS and message limits.
import { createChannel, type Channel } from 'nice-grpc';
import type { Settings, TlsFiles } from '../config/settings.js';
import { clientCredentials } from './tls.js';

export interface ServerChannelOptions {
  readonly tls: TlsFiles;
  /** Largest message received (max_message_bytes). */
  readonly maxMessageBytes: number;
  /** Keepalive pings on an idle channel (long-lived clients: the agent and workers). */
  readonly keepalive?: boolean;
}

/** The settings the channel options come from, defaulting to plain text and 16 MiB. */
export const DEFAULT_CHANNEL: ServerChannelOptions = { tls: { cert: undefined, key: undefined, ca: undefined }, maxMessageBytes: 16 * 1024 * 1024 };

/** A client's channel options from its settings (tls_*, max_message_bytes). */
export function serverChannelOptions(settings: Pick<Settings, 'tls' | 'maxMessageBytes'>): ServerChannelOptions {
  return { tls: settings.tls, maxMessageBytes: settings.maxMessageBytes };
}

export function createServerChannel(address: string, options: ServerChannelOptions): Channel {
  return createChannel(address, clientCredentials(options.tls), {
    'grpc.max_receive_message_length': options.maxMessageBytes,
    ...(options.keepalive === true
      ? { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 }
      : {}),
  });
}
