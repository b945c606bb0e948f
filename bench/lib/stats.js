'use strict';
/**
 * The bench's statistics: the median, and a bootstrap interval for the median of a target's per-round ratios. On a
 * shared 2-core host one round's ratio moves by ± 0.1 or more, so a median alone cannot say whether a goal 0.01 away
 * is met; the interval says how far this run's median could have landed with other rounds of the same run.
 * Rounds (or, with `clusters`, the sets of server processes that ran them) are treated as independent draws, which the
 * host's drift makes only roughly true: read the interval as the least uncertainty of the run, not the most.
 */

/** The median of `xs` (not changed). */
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** A small seeded generator (mulberry32), so the same rounds always give the same interval. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The percentile bootstrap interval of the median of `xs`: `resamples` samples of `xs.length` values drawn with
 * replacement, the median of each, and the central `level` of those medians. With `clusters` (the sizes of
 * consecutive groups of `xs`, e.g. the rounds each set of server processes ran) each resample first draws as many
 * groups with replacement, then the values within each drawn group: a difference between groups then widens the
 * interval instead of hiding in it.
 *
 * @param {readonly number[]} xs - the per-round figures (at least one)
 * @param {{ level?: number, resamples?: number, seed?: number, clusters?: readonly number[] }} [options]
 * @returns {{ low: number, high: number }}
 */
function medianInterval(xs, { level = 0.95, resamples = 4000, seed = 1, clusters = undefined } = {}) {
  if (!Array.isArray(xs) || xs.length === 0 || !xs.every(Number.isFinite)) throw new TypeError('medianInterval: xs must be a non-empty array of finite numbers');
  if (!(level > 0 && level < 1)) throw new TypeError('medianInterval: level must be between 0 and 1');
  if (!Number.isInteger(resamples) || resamples < 100) throw new TypeError('medianInterval: resamples must be an integer of at least 100');
  const sizes = clusters ?? [xs.length];
  if (!Array.isArray(sizes) || !sizes.every((n) => Number.isInteger(n) && n > 0) || sizes.reduce((a, n) => a + n, 0) !== xs.length) {
    throw new TypeError('medianInterval: clusters must be positive integers adding up to xs.length');
  }
  const groups = [];
  for (let at = 0, g = 0; g < sizes.length; at += sizes[g], g++) groups.push(xs.slice(at, at + sizes[g]));
  const rand = seeded(seed);
  const pick = (n) => Math.floor(rand() * n);
  const medians = new Float64Array(resamples);
  const sample = [];
  for (let r = 0; r < resamples; r++) {
    sample.length = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups.length === 1 ? groups[0] : groups[pick(groups.length)];
      for (let i = 0; i < group.length; i++) sample.push(group[pick(group.length)]);
    }
    medians[r] = median(sample);
  }
  medians.sort();
  const tail = (1 - level) / 2;
  return { low: medians[Math.floor(tail * resamples)], high: medians[Math.ceil((1 - tail) * resamples) - 1] };
}

/** The fewest rounds a verdict is given for (`run.js` prints `too few rounds` below it). */
const MIN_JUDGED_ROUNDS = 8;

/**
 * Whether a ratio goal is met by a run: `met` when the whole interval is at or above it, `not met` when the whole
 * interval is below it, `undecided` when the goal lies inside it (this run cannot tell); `''` without a goal. With
 * fewer than {@link MIN_JUDGED_ROUNDS} rounds (when `rounds` is given) it is `too few rounds`: the bootstrap of one
 * or two rounds gives an interval as narrow as the rounds themselves, which says nothing about the next run.
 *
 * @param {{ low: number, high: number }} interval
 * @param {number | undefined} goal
 * @param {number} [rounds] how many rounds the interval rests on
 */
function verdict(interval, goal, rounds) {
  if (goal === undefined) return '';
  if (rounds !== undefined && rounds < MIN_JUDGED_ROUNDS) return 'too few rounds';
  if (interval.low >= goal) return 'met';
  if (interval.high < goal) return 'not met';
  return 'undecided';
}

module.exports = { median, medianInterval, seeded, verdict };
