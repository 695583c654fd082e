// A host-wide limit on local compiles: one lock file per core, shared by every launcher on the host.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The directory of slot files; world-writable and sticky like /tmp, so all users share the limit. */
export function slotDir(): string {
  return path.join(os.tmpdir(), 'distbuild-local-slots');
}

function holderAlive(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the holder exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Waits for one of `slots` host-wide local build slots; resolves to its release function.
 * A slot whose holder died is reclaimed.
 */
export async function acquireLocalSlot(slots: number = os.availableParallelism(), dir: string = slotDir()): Promise<() => void> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o1777 });
    chmodSync(dir, 0o1777);
  } catch {
    // another user's directory: it is already shared
  }
  let delay = 5;
  for (;;) {
    for (let i = 0; i < slots; i++) {
      const file = path.join(dir, `slot-${i}`);
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!holderAlive(file)) rmSync(file, { force: true });
      }
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(100, delay * 2);
  }
}
