/** One value of a top-N list with its (estimated) count. */
export interface TopEntry {
  readonly value: string;
  readonly count: number;
}

/**
 * The space-saving heavy-hitters summary (Metwally et al.): at most `capacity` counters. A value not tracked takes
 * the place of the smallest counter and inherits its count, so frequent values are always found and counts are
 * over-estimated by at most the evicted minimum. Exact while fewer than `capacity` distinct values were seen.
 */
export class SpaceSaving {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  /** Counts one occurrence (or `weight`) of `value`. */
  add(value: string, weight = 1): void {
    const c = this.counts.get(value);
    if (c !== undefined) {
      this.counts.set(value, c + weight);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(value, weight);
      return;
    }
    let minValue = '';
    let min = Infinity;
    for (const [v, n] of this.counts) {
      if (n < min) {
        min = n;
        minValue = v;
      }
    }
    this.counts.delete(minValue);
    this.counts.set(value, min + weight);
  }

  /** The tracked values and counts. */
  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  /** The `limit` most frequent values across several summaries (counts summed), most frequent first. */
  static merge(summaries: readonly SpaceSaving[], limit: number): TopEntry[] {
    const sum = new Map<string, number>();
    for (const s of summaries) for (const [v, n] of s.entries()) sum.set(v, (sum.get(v) ?? 0) + n);
    return [...sum]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([value, count]) => ({ value, count }));
  }
}
