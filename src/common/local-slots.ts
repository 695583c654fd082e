// A host-wide limit on local compiles: N abstract Unix socket names, one per core, as kernel locks.
//
// Binding an abstract socket name is atomic and is undone by the kernel when the holder
// exits, however it exits: no stale locks, no races, and every client of every user on
// the host (in this network namespace) shares the same N slots: agents, Node launchers
// and native clients that run without an agent (native/distbuild-client.c) alike.
import net from 'node:net';
import os from 'node:os';

/** The names are PREFIX + slot number, 0 … N-1. */
export const LOCAL_SLOT_PREFIX = '\0distbuild-local-slot-';

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
 */
export async function acquireLocalSlot(
  slots: number = os.availableParallelism(),
  prefix: string = LOCAL_SLOT_PREFIX,
  signal?: AbortSignal,
): Promise<() => void> {
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
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(50, delay * 2);
  }
}
