// Turns SIGTERM/SIGINT into a graceful stop, and a second signal into a forced one.

export function onStopSignals(graceful: () => void, forced: () => void): () => void {
  let count = 0;
  const handler = (): void => {
    count++;
    if (count === 1) graceful();
    else forced();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
