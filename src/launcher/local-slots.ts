// A host-wide limit on local compiles: N abstract Unix socket names, one per core, as kernel locks.
//
// Binding an abstract socket name is atomic and is undone by the kernel when the holder
// exits, however it exits: no stale locks, no races, and every launcher of every user on
// the host (in this network namespace) shares the same N slots.
import net from 'node:net';
import os from 'node:os';

const PREFIX = '\0distbuild-local-slot-';

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

/** Waits for one of `slots` host-wide local build slots; resolves to its release function. */
export async function acquireLocalSlot(slots: number = os.availableParallelism(), prefix: string = PREFIX): Promise<() => void> {
  let delay = 5;
  const start = Math.floor(Math.random() * slots);
  for (;;) {
    for (let k = 0; k < slots; k++) {
      const server = await tryBind(`${prefix}${(start + k) % slots}`);
      if (server !== undefined) {
        server.unref();
        return () => server.close();
      }
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(50, delay * 2);
  }
}
