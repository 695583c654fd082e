// A worker's circuit breaker: benched after repeated infrastructure failures, probed, restored.
//
// closed → (K consecutive infrastructure failures) → open for a cool-down that doubles each
// time → half-open: one probe job → closed on success, open again on failure.
// Compile errors are results, not failures: they never reach the breaker.

export type CircuitState =
  | { readonly state: 'closed'; readonly failures: number }
  | { readonly state: 'open'; readonly until: number; readonly cooldownMs: number }
  | { readonly state: 'half-open'; readonly cooldownMs: number };

export interface BreakerOptions {
  /** Consecutive infrastructure failures that open the circuit. */
  readonly threshold: number;
  readonly baseCooldownMs: number;
  readonly maxCooldownMs: number;
}

export interface CircuitBreaker {
  readonly current: CircuitState;
  /** An attempt on this worker succeeded (ran to its end, whatever its exit code). */
  success(): void;
  /** An attempt failed in a way that blames the worker. */
  failure(now: number): void;
  /** Moves open → half-open once the cool-down is over; true if the state changed. */
  tick(now: number): boolean;
  /** How many of `maxJobs` slots the breaker allows while `running` attempts run. */
  allowedSlots(maxJobs: number, running: number): number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 3, baseCooldownMs: 10_000, maxCooldownMs: 300_000 };

export function createCircuitBreaker(options: BreakerOptions = DEFAULT_BREAKER): CircuitBreaker {
  let current: CircuitState = { state: 'closed', failures: 0 };
  let lastCooldownMs = 0;
  const open = (now: number): void => {
    const cooldownMs = lastCooldownMs === 0 ? options.baseCooldownMs : Math.min(options.maxCooldownMs, lastCooldownMs * 2);
    lastCooldownMs = cooldownMs;
    current = { state: 'open', until: now + cooldownMs, cooldownMs };
  };
  return {
    get current() {
      return current;
    },
    success() {
      current = { state: 'closed', failures: 0 };
      lastCooldownMs = 0;
    },
    failure(now) {
      if (current.state === 'half-open') {
        open(now);
      } else if (current.state === 'closed') {
        const failures = current.failures + 1;
        if (failures >= options.threshold) open(now);
        else current = { state: 'closed', failures };
      }
    },
    tick(now) {
      if (current.state === 'open' && now >= current.until) {
        current = { state: 'half-open', cooldownMs: current.cooldownMs };
        return true;
      }
      return false;
    },
    allowedSlots(maxJobs, running) {
      switch (current.state) {
        case 'closed':
          return Math.max(0, maxJobs - running);
        case 'open':
          return 0;
        case 'half-open':
          return running === 0 ? 1 : 0;
      }
    },
  };
}
