import type { Counter } from 'prom-client';

/** Label values, one per label name, in the order of the names. */
type Values = readonly (string | number)[];

/** Entries by tuple of label values, in nested maps: a look-up builds no string key. */
class ByValues<T> {
  private readonly root = new Map<unknown, unknown>();

  constructor(private readonly create: (values: Values) => T) {}

  get(values: Values): T {
    let level = this.root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]) as Map<unknown, unknown> | undefined;
      if (!next) level.set(values[i], (next = new Map()));
      level = next;
    }
    let entry = level.get(values[last]) as T | undefined;
    if (entry === undefined) level.set(values[last], (entry = this.create(values)));
    return entry;
  }
}

function labelsOf(names: readonly string[], values: Values): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) labels[names[i]!] = String(values[i]);
  return labels;
}

/** Label objects by label values, each built once (for prom-client calls that take labels, such as `observe`). */
export class LabelSets {
  private readonly sets: ByValues<Record<string, string>>;

  constructor(labelNames: readonly string[]) {
    this.sets = new ByValues((values) => labelsOf(labelNames, values));
  }

  /** The label object of these values. */
  of(values: Values): Record<string, string> {
    return this.sets.get(values);
  }
}

/** One series of a {@link Tally}: its labels (built once) and its total. */
interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

/**
 * Counter totals by label values, counted without building a label object or a string key per event (prom-client's
 * own `inc()` builds a hash string of the labels on every call), and handed to a prom-client counter when it is
 * scraped. It holds as many series as the counter would have.
 */
export class Tally {
  private readonly all: Series[] = [];
  private readonly series: ByValues<Series>;

  constructor(labelNames: readonly string[]) {
    this.series = new ByValues((values) => {
      const s = { labels: labelsOf(labelNames, values), value: 0 };
      this.all.push(s);
      return s;
    });
  }

  /** Adds `n` to the series of these label values. */
  add(values: Values, n = 1): void {
    this.series.get(values).value += n;
  }

  /** Sets the counter to these totals (its `collect` hook, at scrape time). */
  publish(counter: Counter<string>): void {
    counter.reset();
    for (const s of this.all) counter.inc(s.labels, s.value);
  }
}
