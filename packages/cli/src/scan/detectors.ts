import { crc32 } from 'node:zlib';
import { BASE62, keywardKeysIn } from '@keyward/core';

/** A secret found in a text: where it starts, the value (never printed) and how to show it. */
export interface RawMatch {
  readonly index: number;
  readonly value: string;
  /** The value with its secret part hidden. */
  readonly masked: string;
  /** Extra, non-secret detail (e.g. a JWT's algorithm). */
  readonly detail?: string;
}

/** One kind of credential the scanner knows. */
export interface Detector {
  /** Stable id, e.g. `github-token`. */
  readonly kind: string;
  /** Human name. */
  readonly description: string;
  /** Cheap substring test: texts without it are skipped. */
  readonly hint: string | readonly string[];
  /** Every verified occurrence in `text`. */
  find(text: string): RawMatch[];
}

/** Shows `keep` leading characters and, for long values, the last four: `ghp_…a1B2`. */
export function mask(value: string, keep: number): string {
  const head = value.slice(0, keep);
  return value.length >= keep + 16 ? `${head}…${value.slice(-4)}` : `${head}…`;
}

/** Runs a global regex over `text`, keeping the matches `verify` accepts; a refused match is retried one later. */
function scanWith(text: string, re: RegExp, verify: (m: RegExpExecArray) => RawMatch | undefined): RawMatch[] {
  const out: RawMatch[] = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const hit = verify(m);
    if (hit) out.push(hit);
    else re.lastIndex = m.index + 1;
  }
  return out;
}

function base62Value(s: string): number {
  let v = 0;
  for (const c of s) {
    const d = BASE62.indexOf(c);
    if (d < 0) return -1;
    v = v * 62 + d;
  }
  return v;
}

/**
 * True when a classic GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36 base62 characters) carries a valid
 * checksum: its last six characters are the base62 CRC32 of the 30 before them.
 */
export function githubChecksumOk(token: string): boolean {
  const body = token.slice(4);
  if (body.length !== 36) return false;
  return base62Value(body.slice(30)) === crc32(body.slice(0, 30));
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const AWS_EXAMPLE = new Set(['AKIAIOSFODNN7EXAMPLE']);
const AWS_SECRET_SHAPE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const looksRandom = (s: string) => /[a-z]/.test(s) && /[A-Z]/.test(s) && /[0-9]/.test(s);

function lineAround(text: string, index: number): { start: number; line: string } {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return { start, line: text.slice(start, end === -1 ? text.length : end) };
}

/** Every detector, in report order. */
export const DETECTORS: readonly Detector[] = [
  {
    kind: 'keyward-key',
    description: 'keyward API key',
    hint: '_',
    find: (text) =>
      keywardKeysIn(text).map(({ index, value }) => ({ index, value, masked: `${value.slice(0, value.lastIndexOf('_') + 1)}…${value.slice(-4)}` })),
  },
  {
    kind: 'github-token',
    description: 'GitHub token (classic, checksum verified)',
    hint: 'gh',
    find: (text) =>
      scanWith(text, /(?<![0-9A-Za-z])gh[pousr]_[0-9A-Za-z]{36}(?![0-9A-Za-z])/g, (m) => (githubChecksumOk(m[0]) ? { index: m.index, value: m[0], masked: mask(m[0], 4) } : undefined)),
  },
  {
    kind: 'github-fine-grained-token',
    description: 'GitHub fine-grained personal access token',
    hint: 'github_pat_',
    find: (text) => scanWith(text, /(?<![0-9A-Za-z])github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}(?![0-9A-Za-z])/g, (m) => ({ index: m.index, value: m[0], masked: mask(m[0], 11) })),
  },
  {
    kind: 'aws-access-key-id',
    description: 'AWS access key id',
    hint: ['AKIA', 'ASIA'],
    find: (text) => scanWith(text, /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])/g, (m) => (AWS_EXAMPLE.has(m[0]) ? undefined : { index: m.index, value: m[0], masked: mask(m[0], 4) })),
  },
  {
    kind: 'aws-secret-access-key',
    description: 'AWS secret access key',
    hint: ['AKIA', 'ASIA', 'ecret'],
    find(text) {
      const out = new Map<number, RawMatch>();
      // assigned to a name that says what it is: aws_secret_access_key = …, "SecretAccessKey": "…"
      for (const m of scanWith(text, /(?:aws)?[_-]?secret[_-]?(?:access)?[_-]?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi, (x) => ({ index: x.index + x[0].length - x[1]!.length, value: x[1]!, masked: '' }))) {
        if (looksRandom(m.value)) out.set(m.index, { ...m, masked: mask(m.value, 0) });
      }
      // on the same line as an access key id (CSV exports, one-line configs)
      for (const id of scanWith(text, /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])/g, (x) => ({ index: x.index, value: x[0], masked: '' }))) {
        const { start, line } = lineAround(text, id.index);
        AWS_SECRET_SHAPE.lastIndex = 0;
        let s: RegExpExecArray | null;
        while ((s = AWS_SECRET_SHAPE.exec(line)) !== null) {
          if (looksRandom(s[0]) && !out.has(start + s.index)) out.set(start + s.index, { index: start + s.index, value: s[0], masked: mask(s[0], 0) });
        }
      }
      return [...out.values()];
    },
  },
  {
    kind: 'stripe-key',
    description: 'Stripe live secret or restricted key',
    hint: '_live_',
    find: (text) => scanWith(text, /(?<![0-9A-Za-z])[sr]k_live_[0-9A-Za-z]{24,99}(?![0-9A-Za-z])/g, (m) => ({ index: m.index, value: m[0], masked: mask(m[0], 8) })),
  },
  {
    kind: 'slack-token',
    description: 'Slack token',
    hint: 'xox',
    find: (text) => scanWith(text, /(?<![0-9A-Za-z])xox[abpr]-(?:[0-9]{6,15}-){1,3}[0-9A-Za-z]{20,64}(?![0-9A-Za-z-])/g, (m) => ({ index: m.index, value: m[0], masked: mask(m[0], 5) })),
  },
  {
    kind: 'google-api-key',
    description: 'Google API key',
    hint: 'AIza',
    find: (text) => scanWith(text, /(?<![0-9A-Za-z_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, (m) => ({ index: m.index, value: m[0], masked: mask(m[0], 4) })),
  },
  {
    kind: 'private-key',
    description: 'private key block',
    hint: 'PRIVATE KEY',
    find: (text) =>
      scanWith(text, /-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/g, (m) => {
        // a real block follows: base64 on the next line (or after an escaped \n, in JSON), or PEM headers
        const after = text.slice(m.index + m[0].length, m.index + m[0].length + 200);
        if (!/^(?:\r?\n|\\(?:r\\)?n|\s)+(?:[A-Za-z0-9+/=]{40,}|[A-Za-z-]+: )/.test(after)) return undefined;
        return { index: m.index, value: m[0], masked: m[0] };
      }),
  },
  {
    kind: 'jwt',
    description: 'JSON Web Token',
    // `eyJ` is `{"`; a header or payload written with spaces or new lines (`{ "alg"`, `{\n  "alg"`) starts `eyA`, `ew…`.
    hint: ['ey', 'ew'],
    find: (text) =>
      scanWith(text, /(?<![0-9A-Za-z_-])e[yw][0-9A-Za-z_-]{8,}\.e[yw][0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]*(?![0-9A-Za-z_-])/g, (m) => {
        const [header, payload] = m[0].split('.');
        const h = decodeJsonObject(header!);
        if (!h || typeof h['alg'] !== 'string' || !decodeJsonObject(payload!)) return undefined;
        return { index: m.index, value: m[0], masked: mask(m[0], 3), detail: `alg ${String(h['alg']).slice(0, 16)}` };
      }),
  },
];
