/** A source of the current time in milliseconds since the epoch. Inject one in tests. */
export type Clock = () => number;

/** The system clock. */
export const systemClock: Clock = () => Date.now();

/**
 * A clock that only moves when told to, for tests.
 *
 * @example
 * ```ts
 * const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.advance(60_000);
 * ```
 */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void;
  /** Sets the clock to `ms`. */
  set(ms: number): void;
}

/** Creates a {@link ManualClock} starting at `start` (default: now). */
export function manualClock(start: number = Date.now()): ManualClock {
  let now = start;
  const clock = (() => now) as ManualClock;
  clock.advance = (ms: number) => {
    now += ms;
  };
  clock.set = (ms: number) => {
    now = ms;
  };
  return clock;
}
