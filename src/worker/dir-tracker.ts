// The directories a worker has recently worked in, most recent first, with deltas for reports.

export interface DirTracker {
  /** Marks `dirs` as just used. */
  touch(dirs: readonly string[]): void;
  /** Every tracked directory, most recent first. */
  all(): string[];
  /** What was added and removed since the last call (or since full()), if anything. */
  takeDelta(): { added: string[]; removed: string[] } | undefined;
  /** Resets the delta: the caller is about to send a full report. */
  markReported(): void;
  readonly size: number;
}

export function createDirTracker(max: number): DirTracker {
  /** Insertion order = recency, oldest first. */
  const dirs = new Map<string, true>();
  const added = new Set<string>();
  const removed = new Set<string>();
  return {
    touch(list) {
      for (const dir of list) {
        const known = dirs.delete(dir);
        dirs.set(dir, true);
        if (!known) {
          if (!removed.delete(dir)) added.add(dir);
        }
      }
      while (dirs.size > max) {
        const oldest = dirs.keys().next().value as string;
        dirs.delete(oldest);
        if (!added.delete(oldest)) removed.add(oldest);
      }
    },
    all: () => [...dirs.keys()].reverse(),
    takeDelta() {
      if (added.size === 0 && removed.size === 0) return undefined;
      const delta = { added: [...added].reverse(), removed: [...removed] };
      added.clear();
      removed.clear();
      return delta;
    },
    markReported() {
      added.clear();
      removed.clear();
    },
    get size() {
      return dirs.size;
    },
  };
}
