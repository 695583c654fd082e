// Waits until each output is visible on this host's mount at the size the worker reported (NFS attribute caches).
import { statSync } from 'node:fs';
import { onlySystemErrors } from '../common/errno.js';

export interface ExpectedOutput {
  readonly path: string;
  readonly sizeBytes: number;
}

/**
 * The size of `file`, or undefined if it cannot be seen. A synchronous stat, as for config files:
 * should the mount hang, the agent stops answering and its clients notice (SILENCE_MS).
 */
function sizeOf(file: string): number | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false })?.size;
  } catch (err) {
    onlySystemErrors(err); // EACCES, ENOTDIR…: not visible (yet)
    return undefined;
  }
}

/** Resolves to undefined when all are visible, or to a message naming the first that is not. */
export async function waitForOutputs(outputs: readonly ExpectedOutput[], timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (const o of outputs) {
    for (;;) {
      const size = sizeOf(o.path);
      if (size === o.sizeBytes || signal?.aborted === true) break;
      if (Date.now() >= deadline) {
        return `the worker wrote ${o.path} (${o.sizeBytes} bytes), but this host sees ${size === undefined ? 'no such file' : `${size} bytes`} after ${timeoutMs} ms; is --fs-mount the same shared filesystem on both hosts? (setting output_wait_timeout)`;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(50, delay * 2);
    }
  }
  return undefined;
}
