// An unbounded async queue: producers push, one consumer iterates (one value, or all queued) until close or abort.

export interface Channel<T> extends AsyncIterable<T> {
  push(value: T): void;
  /** Iterates what is queued at each wake-up, up to `max` values at once: the values ready when the consumer could take more. */
  batches(max: number): AsyncIterable<T[]>;
  /** Ends iteration after the queued values are consumed. */
  close(): void;
  readonly closed: boolean;
}

export function createChannel<T>(signal?: AbortSignal): Channel<T> {
  const queue: T[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = (): void => {
    closed = true;
    queue.length = 0;
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) onAbort();
  return {
    push(value) {
      if (closed) return;
      queue.push(value);
      notify();
    },
    close() {
      closed = true;
      notify();
      signal?.removeEventListener('abort', onAbort);
    },
    get closed() {
      return closed;
    },
    async *batches(max) {
      for (;;) {
        if (queue.length > 0) {
          yield queue.splice(0, max);
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift() as T;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

/**
 * The channel's values as a stream of messages: one as it is, several queued at once wrapped
 * into one (`wrap`), while `enabled()` says the peer accepts such batches. Under load, the
 * messages that pile up while a write is under way leave together, and the per-message cost
 * of the transport is paid once for them.
 */
export async function* coalesce<T>(channel: Channel<T>, wrap: (batch: T[]) => T, enabled: () => boolean = () => true, max = 256): AsyncGenerator<T> {
  for await (const batch of channel.batches(max)) {
    if (batch.length === 1 || !enabled()) yield* batch;
    else yield wrap(batch);
  }
}
