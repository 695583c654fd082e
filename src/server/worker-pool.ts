// The registered workers, with the free ones kept apart for O(1) sampling.
import { freeSlots, type WorkerSession } from './worker-session.js';

/** A set with O(1) add, delete and random pick. */
class SampleSet<T> {
  private readonly items: T[] = [];
  private readonly at = new Map<T, number>();
  get size(): number {
    return this.items.length;
  }
  add(item: T): void {
    if (this.at.has(item)) return;
    this.at.set(item, this.items.length);
    this.items.push(item);
  }
  delete(item: T): void {
    const i = this.at.get(item);
    if (i === undefined) return;
    const last = this.items.pop() as T;
    if (last !== item) {
      this.items[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(item);
  }
  toArray(): readonly T[] {
    return this.items;
  }
}

export interface WorkerPool {
  readonly all: ReadonlyMap<string, WorkerSession>;
  add(w: WorkerSession): void;
  remove(w: WorkerSession): boolean;
  /** Call after a worker's running set, limit or state changed. */
  refresh(w: WorkerSession): void;
  /** Free workers that can run a job of this kind. */
  freeCount(link: boolean): number;
  /** Power of two choices: of two random free workers (not in `avoid`), the less loaded. */
  pickTwoChoices(link: boolean, avoid?: ReadonlySet<string>): WorkerSession | undefined;
  /** Registered, running workers that can run this kind of job. */
  eligibleCount(link: boolean): number;
  /** Is any registered, running worker able to run this kind of job at all? */
  anyEligible(link: boolean): boolean;
}

export function load(w: WorkerSession): number {
  return w.running.size / w.maxJobs;
}

/** Power of two choices: of two random picks from `items`, the less loaded. */
export function lessLoadedOfTwo(items: readonly WorkerSession[]): WorkerSession | undefined {
  const a = items[Math.floor(Math.random() * items.length)];
  const b = items[Math.floor(Math.random() * items.length)];
  if (a === undefined || b === undefined) return a ?? b;
  return load(b) < load(a) ? b : a;
}

export function createWorkerPool(): WorkerPool {
  const all = new Map<string, WorkerSession>();
  const free = new SampleSet<WorkerSession>();
  const freeLinkers = new SampleSet<WorkerSession>();
  const eligible = new Set<WorkerSession>();
  const eligibleLinkers = new Set<WorkerSession>();
  const refresh = (w: WorkerSession): void => {
    if (all.has(w.id) && w.state === 'running') {
      eligible.add(w);
      if (w.registration.canLink) eligibleLinkers.add(w);
    } else {
      eligible.delete(w);
      eligibleLinkers.delete(w);
    }
    if (all.has(w.id) && freeSlots(w) > 0) {
      free.add(w);
      if (w.registration.canLink) freeLinkers.add(w);
    } else {
      free.delete(w);
      freeLinkers.delete(w);
    }
  };
  return {
    all,
    add(w) {
      all.set(w.id, w);
      refresh(w);
    },
    remove(w) {
      const had = all.delete(w.id);
      refresh(w);
      return had;
    },
    refresh,
    freeCount: (link) => (link ? freeLinkers.size : free.size),
    pickTwoChoices(link, avoid) {
      const set = link ? freeLinkers : free;
      const items = set.toArray();
      return lessLoadedOfTwo(avoid !== undefined && avoid.size > 0 ? items.filter((w) => !avoid.has(w.id)) : items);
    },
    eligibleCount: (link) => (link ? eligibleLinkers.size : eligible.size),
    anyEligible: (link) => (link ? eligibleLinkers.size : eligible.size) > 0,
  };
}
