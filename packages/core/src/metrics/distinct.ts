/** Distinct values counted exactly up to this many; beyond, a HyperLogLog estimates. */
export const EXACT_DISTINCT_MAX = 32;
/** HyperLogLog precision: 2^8 = 256 one-byte registers (standard error about 6.5 %). */
const P = 8;
const M = 1 << P;
const ALPHA = 0.7213 / (1 + 1.079 / M);

/**
 * Counts distinct values in bounded memory: an exact set of up to {@link EXACT_DISTINCT_MAX} 53-bit hashes, then a
 * 256-register HyperLogLog (256 bytes). Exact for small counts, an estimate (±~6.5 %) for large ones.
 */
export class DistinctCounter {
  private exact: Set<number> | undefined = new Set();
  private registers: Uint8Array | undefined;

  /** Adds a value by its 53-bit hash (see `hash53`). */
  add(hash: number): void {
    if (this.exact) {
      this.exact.add(hash);
      if (this.exact.size <= EXACT_DISTINCT_MAX) return;
      this.registers = new Uint8Array(M);
      for (const h of this.exact) addRegister(this.registers, h);
      this.exact = undefined;
      return;
    }
    addRegister(this.registers!, hash);
  }

  /** The number of distinct values (exact while small). */
  count(): number {
    return DistinctCounter.union([this]);
  }

  /** Distinct values across several counters (their union). */
  static union(counters: readonly DistinctCounter[]): number {
    const set = new Set<number>();
    let registers: Uint8Array | undefined;
    for (const c of counters) {
      if (c.registers) {
        registers ??= new Uint8Array(M);
        for (let i = 0; i < M; i++) if (c.registers[i]! > registers[i]!) registers[i] = c.registers[i]!;
      } else for (const h of c.exact!) set.add(h);
    }
    if (!registers && set.size <= EXACT_DISTINCT_MAX) return set.size;
    registers ??= new Uint8Array(M);
    for (const h of set) addRegister(registers, h);
    return estimate(registers);
  }
}

function addRegister(registers: Uint8Array, hash: number): void {
  const index = hash % M;
  const w = Math.floor(hash / M); // 45 remaining bits
  const rank = w === 0 ? 46 : 45 - Math.floor(Math.log2(w));
  if (rank > registers[index]!) registers[index] = rank;
}

function estimate(registers: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < M; i++) {
    sum += 2 ** -registers[i]!;
    if (registers[i] === 0) zeros++;
  }
  const raw = (ALPHA * M * M) / sum;
  if (raw <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
  return Math.round(raw);
}
