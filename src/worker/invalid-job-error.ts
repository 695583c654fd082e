// The errors for a job a worker does not run: refused for any worker, or only unfit for this one.

/** A job no worker may run: its message names the problem and the setting. */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
}

/**
 * A job this worker cannot run but another may: what it needs is not here (yet). `mountMissing`:
 * the worker's own mount is gone, which counts against the worker.
 */
export class WorkerUnfitError extends Error {
  override readonly name = 'WorkerUnfitError';
  constructor(
    message: string,
    readonly mountMissing = false,
  ) {
    super(message);
  }
}
