// Waits until each output is visible on this host's mount at the size and mtime the worker reported (NFS attribute caches).
import { statSync } from 'node:fs';
import { onlySystemErrors } from '../common/errno.js';

export interface ExpectedOutput {
  readonly path: string;
  readonly sizeBytes: number;
  /** The published file's mtime; 0: unknown (an older worker), size alone decides. */
  readonly mtimeMs: number;
}

/**
 * The size and mtime of `file`, or undefined if it cannot be seen. A synchronous stat, as for
 * config files: should the mount hang, the agent stops answering and its clients notice (SILENCE_MS).
 */
function statOf(file: string): { size: number; mtimeMs: number } | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch (err) {
    onlySystemErrors(err); // EACCES, ENOTDIR…: not visible (yet)
    return undefined;
  }
}

/** A file of the same size is stale unless its mtime is the attempt's too. */
const matches = (o: ExpectedOutput, seen: { size: number; mtimeMs: number } | undefined): boolean =>
  seen !== undefined && seen.size === o.sizeBytes && (o.mtimeMs === 0 || seen.mtimeMs === o.mtimeMs);

/** Resolves to undefined when all are visible, or to a message naming the first that is not. */
export async function waitForOutputs(outputs: readonly ExpectedOutput[], timeoutMs: number, signal?: AbortSignal): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (const o of outputs) {
    for (;;) {
      const seen = statOf(o.path);
      if (matches(o, seen) || signal?.aborted === true) break;
      if (Date.now() >= deadline) {
        const sees = seen === undefined ? 'no such file' : seen.size !== o.sizeBytes ? `${seen.size} bytes` : `an older file of that size (mtime ${new Date(seen.mtimeMs).toISOString()}, not ${new Date(o.mtimeMs).toISOString()})`;
        return `the worker wrote ${o.path} (${o.sizeBytes} bytes), but this host sees ${sees} after ${timeoutMs} ms; is --fs-mount the same shared filesystem on both hosts? (setting output_wait_timeout)`;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(50, delay * 2);
    }
  }
  return undefined;
}
