/**
 * A rolling window made of `size` time slots of `slotMs` each, stored in a ring. A slot is created on first write
 * (idle keys cost nothing) and reused when the ring comes round. A window read at time `t` covers the slot holding
 * `t` and the `size - 1` before it, i.e. between `(size - 1) / size` and all of the window's length.
 */
export class Ring<T> {
  private readonly slots: Array<T | undefined>;
  private readonly indices: number[];

  constructor(
    readonly slotMs: number,
    readonly size: number,
  ) {
    this.slots = new Array<T | undefined>(size);
    this.indices = new Array<number>(size).fill(-1);
  }

  /**
   * The slot for time `t`, created with `create` when needed; `undefined` when `t` is older than the window. A slot
   * written for a time later than `clock()` (read only then) was written before the clock stepped back: it is
   * replaced, so a clock set back keeps being counted instead of losing every event until it catches up.
   */
  at(t: number, create: () => T, clock: () => number): T | undefined {
    const index = Math.floor(t / this.slotMs);
    const pos = index % this.size;
    const current = this.indices[pos]!;
    if (current === index) return this.slots[pos];
    if (current > index && current <= Math.floor(clock() / this.slotMs)) return undefined;
    const slot = create();
    this.slots[pos] = slot;
    this.indices[pos] = index;
    return slot;
  }

  /** The live slots of the window read at time `t`. */
  live(t: number): T[] {
    const index = Math.floor(t / this.slotMs);
    const out: T[] = [];
    for (let i = index - this.size + 1; i <= index; i++) {
      const pos = ((i % this.size) + this.size) % this.size;
      if (this.indices[pos] === i) out.push(this.slots[pos]!);
    }
    return out;
  }

  /** Start (ms) of the window read at time `t`. */
  start(t: number): number {
    return (Math.floor(t / this.slotMs) - this.size + 1) * this.slotMs;
  }
}
