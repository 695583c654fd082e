// A host-wide limit on one user's local compiles: N abstract Unix socket names, one per core, as kernel locks.
//
// Binding an abstract socket name is atomic and is undone by the kernel when the holder
// exits, however it exits: no stale locks, no races, and every client of one user on the
// host (in this network namespace) shares the same N slots: agents, Node launchers and
// native clients that run without an agent (native/distbuild-client.c) alike. The names
// carry the user's uid, so another user cannot take them, and a wait has a deadline
// (LOCAL_SLOT_WAIT_MS), after which the command runs past the limit rather than never.
import net from 'node:net';
import os from 'node:os';

/** The names are PREFIX + slot number, 0 … N-1. */
export const LOCAL_SLOT_PREFIX = `\0distbuild-local-slot-${process.getuid?.() ?? 0}-`;

/** How long a command waits for a local slot before it runs without one (as native/distbuild-client.c). */
export const LOCAL_SLOT_WAIT_MS = 600_000;

function tryBind(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(name, () => resolve(server));
  });
}

/** The cause of an abandoned wait for a local slot. */
export class SlotWaitAborted extends Error {
  override readonly name = 'SlotWaitAborted';
}

/**
 * Waits for one of `slots` host-wide local build slots; resolves to its release function.
 * Rejects with SlotWaitAborted once `signal` aborts (the client that wanted it is gone).
 * After `waitMs` without a free slot it resolves without one (`onOverdue` is told), so a
 * slot held by a stuck process delays a build but never stops it.
 */
export interface LocalSlotOptions {
  /** Slots on this host (default: its cores). */
  readonly slots?: number;
  readonly prefix?: string;
  readonly signal?: AbortSignal;
  readonly waitMs?: number;
  /** Told when the wait ran out and the command runs without a slot, with the message to show. */
  readonly onOverdue?: (message: string) => void;
}

export async function acquireLocalSlot(options: LocalSlotOptions = {}): Promise<() => void> {
  const { slots = os.availableParallelism(), prefix = LOCAL_SLOT_PREFIX, signal, waitMs = LOCAL_SLOT_WAIT_MS, onOverdue } = options;
  const deadline = performance.now() + waitMs;
  let delay = 5;
  const start = Math.floor(Math.random() * slots);
  /** Read afresh after each await (the signal may abort meanwhile). */
  const gone = (): boolean => signal?.aborted === true;
  for (;;) {
    for (let k = 0; k < slots; k++) {
      if (gone()) throw new SlotWaitAborted('the client left before a local slot was free');
      const server = await tryBind(`${prefix}${(start + k) % slots}`);
      if (server !== undefined) {
        server.unref();
        if (gone()) {
          server.close();
          throw new SlotWaitAborted('the client left before a local slot was free');
        }
        return () => server.close();
      }
    }
    if (performance.now() >= deadline) {
      onOverdue?.(`no local slot was free for ${waitMs / 1000} s; running past the local limit`);
      return () => undefined;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(50, delay * 2);
  }
}
