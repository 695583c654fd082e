// Waits until each output is visible on this host's mount at the size the worker reported.
import { statSync } from 'node:fs';

export interface ExpectedOutput {
  readonly path: string;
  readonly sizeBytes: number;
}

/** Resolves to undefined when all are visible, or to a message naming the first that is not. */
export async function waitForOutputs(outputs: readonly ExpectedOutput[], timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (const o of outputs) {
    for (;;) {
      let size: number | undefined;
      try {
        size = statSync(o.path).size;
      } catch {
        size = undefined;
      }
      if (size === o.sizeBytes) break;
      if (Date.now() >= deadline) {
        return `the worker wrote ${o.path} (${o.sizeBytes} bytes), but this host sees ${size === undefined ? 'no such file' : `${size} bytes`} after ${timeoutMs} ms; is --fs-mount the same shared filesystem on both hosts? (setting output_wait_timeout)`;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(50, delay * 2);
    }
  }
  return undefined;
}
