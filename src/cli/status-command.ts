// `distbuild --status`: prints the server's view of the farm as text or JSON.
import { createClient, waitForChannelReady } from 'nice-grpc';
import { authCallOptions } from '../common/auth.js';
import { createLogger } from '../common/logger.js';
import { DEFAULT_CHANNEL, createServerChannel, serverChannelOptions, type ServerChannelOptions } from '../common/server-channel.js';
import type { Settings } from '../config/settings.js';
import { findServer } from '../discovery/find-server.js';
import type { StatusReply } from '../protocol/messages.js';
import { schedulerDefinition } from '../protocol/scheduler-service.js';
import { formatStatus } from './format-status.js';

export async function fetchStatus(serverAddr: string, connectTimeoutMs: number, token?: string, channelOptions: ServerChannelOptions = DEFAULT_CHANNEL): Promise<StatusReply> {
  const channel = createServerChannel(serverAddr, channelOptions);
  try {
    try {
      await waitForChannelReady(channel, new Date(Date.now() + connectTimeoutMs));
    } catch (err) {
      // waitForChannelReady fails only by its deadline: the server did not answer in time.
      throw new Error(`cannot connect to the server ${serverAddr} within ${connectTimeoutMs} ms (setting connect_timeout); is it running?`, { cause: err });
    }
    return await createClient(schedulerDefinition(), channel, authCallOptions(token)).getStatus({});
  } finally {
    channel.close();
  }
}

/** The server the settings name (or mDNS finds), as --status, the subcommands and the make wrapper ask it. */
function statusServer(settings: Settings): Promise<string> {
  return findServer({ ...settings, sendsToken: settings.tokens[0] !== undefined, tlsCa: settings.tls.ca }, createLogger({ level: settings.logLevel === 'debug' ? 'debug' : 'warn', role: 'status' }));
}

/** The farm's status snapshot from the server the settings name; rejects naming the server that did not answer. */
export async function fetchFarmStatus(settings: Settings): Promise<StatusReply> {
  return fetchStatus(await statusServer(settings), settings.connectTimeoutMs, settings.tokens[0], serverChannelOptions(settings));
}

export async function statusCommand(settings: Settings): Promise<number> {
  if (settings.watch) return watchStatus(settings, await statusServer(settings));
  let status: StatusReply;
  try {
    status = await fetchFarmStatus(settings);
  } catch (err) {
    process.stderr.write(`distbuild: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(settings.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return 0;
}

/** `--status --watch`: redraws the status every second until SIGINT or SIGTERM. */
async function watchStatus(settings: Settings, serverAddr: string): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stop.signal.aborted) {
      let text: string;
      try {
        const status = await fetchStatus(serverAddr, settings.connectTimeoutMs, settings.tokens[0], serverChannelOptions(settings));
        text = settings.json ? `${JSON.stringify(status)}\n` : formatStatus(status);
      } catch (err) {
        text = `distbuild: ${(err as Error).message}\n`;
      }
      process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : text);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        stop.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
