import type { KeyInfo } from '@keyward/core';

/** A time as `2026-03-01 10:00Z`, or `-`. */
export function when(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
}

/** Control characters (C0, DEL, C1) and the Unicode bidirectional controls. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from a key record (an owner, a name, a reason, metadata), safe to print on a terminal: control characters are
 * shown escaped (`\n`, `\u001b`), so a name set through a self-service page cannot break a table into lines that look
 * like other keys, or send escape sequences that rewrite the screen.
 *
 * @example printable('a\nb\u001b[2J') // 'a\\nb\\u001b[2J'
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    return escaped.length > 1 ? escaped : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Renders rows as a plain, left-aligned text table with a header line (cells made {@link printable}). */
export function table(headers: readonly string[], cells: readonly (readonly string[])[]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** The state of a key as one word: `active`, `revoked`, `disabled`, `expired`, `grace` (rotated, still working). */
export function stateOf(k: KeyInfo, now: number): string {
  if (k.status !== 'active') return k.status;
  if (k.expiresAt !== undefined && k.expiresAt <= now) return 'expired';
  if (k.graceEndsAt !== undefined) return k.graceEndsAt <= now ? 'revoked' : 'grace';
  return 'active';
}

/** The key list as a table. */
export function keyTable(keys: readonly KeyInfo[], now: number): string {
  return table(
    ['ID', 'OWNER', 'NAME', 'HINT', 'STATE', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED'],
    keys.map((k) => [k.id, k.owner, k.name ?? '-', k.hint, stateOf(k, now) + (k.legacy ? ' (legacy)' : ''), k.scopes.join(' ') || '-', when(k.createdAt), when(k.expiresAt), when(k.lastUsedAt)]),
  );
}

/** One key as `field: value` lines. */
export function keyDetails(k: KeyInfo, now: number): string {
  const rows: Array<[string, string | undefined]> = [
    ['id', k.id],
    ['owner', k.owner],
    ['name', k.name],
    ['hint', k.hint],
    ['state', stateOf(k, now)],
    ['scopes', k.scopes.join(' ') || '-'],
    ['plan', k.plan],
    ['created', when(k.createdAt)],
    ['expires', k.expiresAt === undefined ? undefined : when(k.expiresAt)],
    ['last used', k.lastUsedAt === undefined ? undefined : when(k.lastUsedAt)],
    ['revoked', k.revokedAt === undefined ? undefined : `${when(k.revokedAt)}${k.revokedReason ? ` (${k.revokedReason})` : ''}`],
    ['disabled', k.status === 'disabled' ? k.disabledReason ?? 'yes' : undefined],
    ['rotated from', k.rotatedFrom],
    ['rotated to', k.rotatedTo],
    ['grace ends', k.graceEndsAt === undefined ? undefined : when(k.graceEndsAt)],
    ['legacy', k.legacy ? 'yes (due for rotation)' : undefined],
    ['restrictions', k.restrictions ? JSON.stringify(k.restrictions) : undefined],
    ['limits', k.limits ? JSON.stringify(k.limits) : undefined],
    ['metadata', Object.keys(k.metadata).length ? JSON.stringify(k.metadata) : undefined],
  ];
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const w = Math.max(...shown.map(([f]) => f.length));
  return shown.map(([f, v]) => `${(f + ':').padEnd(w + 1)} ${printable(v)}`).join('\n') + '\n';
}

/** JSON for `--json` output, one document, newline-terminated. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
