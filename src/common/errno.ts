// Reads the errno code ("ENOENT", "EADDRINUSE"…) of a failed system call, without casts.

/** The code of a Node system error, or undefined if `err` is not one. */
export function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Rethrows `err` unless it is a system error (the caller handles those). */
export function onlySystemErrors(err: unknown): string {
  const code = errnoCode(err);
  if (code === undefined) throw err;
  return code;
}
