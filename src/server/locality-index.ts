// Which workers have recently worked in which directories: the server's locality index.
import type { WorkerSession } from './worker-session.js';

/** Most directories remembered per worker; the oldest are forgotten first. */
const MAX_DIRS_PER_WORKER = 1000;

export interface LocalityIndex {
  /** A full report: the worker's set becomes exactly `dirs`. */
  replace(worker: WorkerSession, dirs: readonly string[]): void;
  /** A delta report. */
  apply(worker: WorkerSession, added: readonly string[], removed: readonly string[]): void;
  /** The worker is about to work in `dirs` (an assignment): warm them now, before its next report. */
  touch(worker: WorkerSession, dirs: readonly string[]): void;
  removeWorker(worker: WorkerSession): void;
  /** Workers warm in `dir`, most recently warmed last. */
  workersIn(dir: string): ReadonlySet<WorkerSession> | undefined;
  /** The worker's directories, least recent first. */
  dirsOf(worker: WorkerSession): Iterable<string>;
  dirCount(worker: WorkerSession): number;
  has(worker: WorkerSession, dir: string): boolean;
  /** The source directories of the worker's latest assignments, newest last (at most RECENT). */
  recentOf(worker: WorkerSession): readonly string[];
}

/** How many recent source directories are kept per worker for the queue's warm lookup. */
const RECENT = 16;

export function createLocalityIndex(): LocalityIndex {
  const byDir = new Map<string, Set<WorkerSession>>();
  /** worker → its dirs in recency order (Map insertion order; re-inserted on touch). */
  const byWorker = new Map<WorkerSession, Map<string, true>>();
  const recent = new Map<WorkerSession, string[]>();

  const dirsFor = (w: WorkerSession): Map<string, true> => {
    let dirs = byWorker.get(w);
    if (dirs === undefined) {
      dirs = new Map();
      byWorker.set(w, dirs);
    }
    return dirs;
  };
  const add = (w: WorkerSession, dir: string): void => {
    const dirs = dirsFor(w);
    dirs.delete(dir);
    dirs.set(dir, true);
    let set = byDir.get(dir);
    if (set === undefined) {
      set = new Set();
      byDir.set(dir, set);
    }
    set.add(w);
    if (dirs.size > MAX_DIRS_PER_WORKER) {
      const oldest = dirs.keys().next().value;
      if (oldest !== undefined) drop(w, oldest);
    }
  };
  const drop = (w: WorkerSession, dir: string): void => {
    byWorker.get(w)?.delete(dir);
    const set = byDir.get(dir);
    if (set === undefined) return;
    set.delete(w);
    if (set.size === 0) byDir.delete(dir);
  };
  const clear = (w: WorkerSession): void => {
    for (const dir of [...(byWorker.get(w)?.keys() ?? [])]) drop(w, dir);
  };

  return {
    replace(w, dirs) {
      clear(w);
      // Reports are most recent first; insert oldest first so recency order holds.
      for (let i = dirs.length - 1; i >= 0; i--) add(w, dirs[i] ?? '');
    },
    apply(w, added, removed) {
      for (const dir of removed) drop(w, dir);
      for (let i = added.length - 1; i >= 0; i--) add(w, added[i] ?? '');
    },
    touch(w, dirs) {
      for (const dir of dirs) add(w, dir);
      const primary = dirs[0];
      if (primary === undefined) return;
      let list = recent.get(w);
      if (list === undefined) {
        list = [];
        recent.set(w, list);
      }
      const at = list.lastIndexOf(primary);
      if (at === list.length - 1 && at >= 0) return;
      if (at >= 0) list.splice(at, 1);
      list.push(primary);
      if (list.length > RECENT) list.shift();
    },
    removeWorker(w) {
      clear(w);
      byWorker.delete(w);
      recent.delete(w);
    },
    recentOf: (w) => recent.get(w) ?? [],
    workersIn: (dir) => byDir.get(dir),
    dirsOf: (w) => byWorker.get(w)?.keys() ?? [],
    dirCount: (w) => byWorker.get(w)?.size ?? 0,
    has: (w, dir) => byWorker.get(w)?.has(dir) ?? false,
  };
}
