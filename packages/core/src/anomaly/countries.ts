/** Most countries remembered per key that are not two-letter codes (names a custom look-up may answer with). */
export const MAX_OTHER_COUNTRIES = 64;

const A = 65;
const CODES = 26 * 26;

/** The bit of a two-letter upper-case code (`AA`–`ZZ`), or -1 for anything else. */
function bitOf(country: string): number {
  if (country.length !== 2) return -1;
  const c0 = country.charCodeAt(0) - A;
  const c1 = country.charCodeAt(1) - A;
  return c0 >= 0 && c0 < 26 && c1 >= 0 && c1 < 26 ? c0 * 26 + c1 : -1;
}

/**
 * The countries a key was used from, for `NEW_COUNTRY`: one bit per two-letter code (26 × 26 = 676 bits, 85 bytes),
 * so every ISO 3166-1 alpha-2 country is remembered however many a key is used from, and up to
 * {@link MAX_OTHER_COUNTRIES} other names. (A set of the first 64 countries left a key used from more of them told
 * `NEW_COUNTRY` for the same countries once per cool-down, for good.)
 */
export class CountrySet {
  private bits: Uint8Array | undefined;
  private other: Set<string> | undefined;
  private codes = 0;

  /** Whether `country` (upper case) was added. */
  has(country: string): boolean {
    const bit = bitOf(country);
    if (bit === -1) return this.other?.has(country) ?? false;
    return this.bits !== undefined && (this.bits[bit >> 3]! & (1 << (bit & 7))) !== 0;
  }

  /** Remembers `country` (upper case); a name that is not a two-letter code only while fewer than 64 are held. */
  add(country: string): void {
    const bit = bitOf(country);
    if (bit === -1) {
      this.other ??= new Set();
      if (this.other.size < MAX_OTHER_COUNTRIES) this.other.add(country);
      return;
    }
    this.bits ??= new Uint8Array(CODES / 8 + 1);
    const mask = 1 << (bit & 7);
    if ((this.bits[bit >> 3]! & mask) !== 0) return;
    this.bits[bit >> 3]! |= mask;
    this.codes++;
  }

  /** How many countries are held. */
  get size(): number {
    return this.codes + (this.other?.size ?? 0);
  }

  /** The countries held, sorted. */
  list(): string[] {
    const out: string[] = [];
    if (this.bits) {
      for (let bit = 0; bit < CODES; bit++) {
        if ((this.bits[bit >> 3]! & (1 << (bit & 7))) !== 0) out.push(String.fromCharCode(A + Math.floor(bit / 26), A + (bit % 26)));
      }
    }
    if (this.other) out.push(...this.other);
    return out.sort();
  }
}
