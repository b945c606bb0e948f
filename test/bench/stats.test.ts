/** The bench's statistics (bench/lib/stats.js): what its goal verdicts rest on. */
const { median, medianInterval, verdict } = require('../../bench/lib/stats') as {
  median: (xs: readonly number[]) => number;
  medianInterval: (xs: readonly number[], options?: { level?: number; resamples?: number; seed?: number; clusters?: readonly number[] }) => { low: number; high: number };
  verdict: (interval: { low: number; high: number }, goal: number | undefined, rounds?: number) => string;
};

describe('bench statistics', () => {
  it('takes the median of odd and even counts without changing its input', () => {
    const xs = [3, 1, 2];
    expect(median(xs)).toBe(2);
    expect(xs).toEqual([3, 1, 2]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('gives an interval that holds the median, collapses for equal rounds, and repeats for the same rounds', () => {
    const rounds = [0.82, 0.95, 0.88, 0.91, 0.79, 0.9, 0.86, 0.93, 0.87, 0.89, 0.84];
    const { low, high } = medianInterval(rounds);
    expect(low).toBeLessThanOrEqual(median(rounds));
    expect(high).toBeGreaterThanOrEqual(median(rounds));
    expect(low).toBeGreaterThanOrEqual(Math.min(...rounds));
    expect(high).toBeLessThanOrEqual(Math.max(...rounds));
    expect(medianInterval(rounds)).toEqual({ low, high });
    expect(medianInterval([0.9, 0.9, 0.9, 0.9])).toEqual({ low: 0.9, high: 0.9 });
    expect(medianInterval([0.7])).toEqual({ low: 0.7, high: 0.7 });
  });

  it('narrows as rounds grow', () => {
    const few = [0.8, 0.95, 0.85, 0.9, 0.88];
    const many = Array.from({ length: 8 }, () => few).flat();
    const a = medianInterval(few);
    const b = medianInterval(many);
    expect(b.high - b.low).toBeLessThan(a.high - a.low);
  });

  it('widens the interval when groups of rounds (sets of server processes) disagree', () => {
    // Two processes: one lucky, one not. Rounds resampled alone hide it; resampled by process, the interval spans both.
    const rounds = [0.8, 0.81, 0.8, 0.82, 0.81, 0.8, 0.91, 0.9, 0.92, 0.9, 0.91, 0.9];
    const plain = medianInterval(rounds);
    const clustered = medianInterval(rounds, { clusters: [6, 6] });
    expect(clustered.high - clustered.low).toBeGreaterThan(plain.high - plain.low);
    expect(clustered.low).toBeLessThanOrEqual(0.81);
    expect(clustered.high).toBeGreaterThanOrEqual(0.9);
    expect(medianInterval(rounds, { clusters: [12] })).toEqual(plain);
  });

  it('refuses what it cannot use, naming the argument', () => {
    expect(() => medianInterval([1, 2, 3], { clusters: [1, 1] })).toThrow(/clusters/);
    expect(() => medianInterval([1, 2], { clusters: [0, 2] })).toThrow(/clusters/);
    expect(() => medianInterval([])).toThrow(/xs/);
    expect(() => medianInterval([1, Number.NaN])).toThrow(/xs/);
    expect(() => medianInterval([1, 2], { level: 1 })).toThrow(/level/);
    expect(() => medianInterval([1, 2], { resamples: 10 })).toThrow(/resamples/);
  });

  it('says met, not met or undecided against a goal', () => {
    expect(verdict({ low: 0.91, high: 0.95 }, 0.9)).toBe('met');
    expect(verdict({ low: 0.9, high: 0.95 }, 0.9)).toBe('met');
    expect(verdict({ low: 0.8, high: 0.89 }, 0.9)).toBe('not met');
    expect(verdict({ low: 0.88, high: 0.92 }, 0.9)).toBe('undecided');
    expect(verdict({ low: 0.88, high: 0.92 }, undefined)).toBe('');
    // A verdict needs rounds enough for the interval to mean anything: one round's interval is that round.
    expect(verdict({ low: 1.92, high: 1.92 }, 0.9, 1)).toBe('too few rounds');
    expect(verdict({ low: 0.91, high: 0.95 }, 0.9, 7)).toBe('too few rounds');
    expect(verdict({ low: 0.91, high: 0.95 }, 0.9, 8)).toBe('met');
    expect(verdict({ low: 0.91, high: 0.95 }, undefined, 1)).toBe('');
  });
});
