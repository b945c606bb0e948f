import { DETECTORS, type Detector } from './detectors';

/** One credential found by the scanner. Carries no secret: only its masked form. */
export interface Finding {
  /** File path as given or listed (relative to the working directory when under it). */
  readonly file: string;
  /** 1-based line and column. */
  readonly line: number;
  readonly column: number;
  /** Detector id, e.g. `github-token`. */
  readonly kind: string;
  /** Human name of the kind. */
  readonly description: string;
  /** The credential with its secret part hidden. */
  readonly masked: string;
  /** Extra, non-secret detail. */
  readonly detail?: string;
}

/** Lines containing this marker are not reported (for test fixtures and documentation). */
export const ALLOW_MARKER = 'keyward:allow';

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], index: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const wanted = (d: Detector, text: string) => (typeof d.hint === 'string' ? text.includes(d.hint) : d.hint.some((h) => text.includes(h)));

/**
 * Finds every known credential in `text`, sorted by position. Checksummed kinds (keyward keys, classic GitHub tokens)
 * are verified, so random strings are not reported.
 *
 * @example
 * ```ts
 * scanText('token = ghp_…', 'config.yml') // [{ file: 'config.yml', line: 1, column: 9, kind: 'github-token', … }]
 * ```
 */
export function scanText(text: string, file: string, detectors: readonly Detector[] = DETECTORS): Finding[] {
  const found: Array<Finding & { index: number }> = [];
  let starts: number[] | undefined;
  for (const d of detectors) {
    if (!wanted(d, text)) continue;
    for (const m of d.find(text)) {
      starts ??= lineStarts(text);
      const li = lineOf(starts, m.index);
      const end = text.indexOf('\n', m.index);
      if (text.slice(starts[li]!, end === -1 ? text.length : end).includes(ALLOW_MARKER)) continue;
      found.push({ index: m.index, file, line: li + 1, column: m.index - starts[li]! + 1, kind: d.kind, description: d.description, masked: m.masked, ...(m.detail ? { detail: m.detail } : {}) });
    }
  }
  found.sort((a, b) => a.index - b.index || a.kind.localeCompare(b.kind));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  return found.map(({ index, ...f }) => f);
}
