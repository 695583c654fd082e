// An unbounded async queue: producers push, one consumer iterates until close or abort.

export interface Channel<T> extends AsyncIterable<T> {
  push(value: T): void;
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
