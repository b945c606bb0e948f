/**
 * The leak guard: runs with every test file of the suite. It listens to every keyward event of every instance (the
 * `keyward:events` diagnostics channel), and captures console output and process warnings; after the file's tests it
 * fails the file if any of it contains a keyward key (checksum-verified), a JWT, either of them encoded in base64 or
 * base64url (HTTP Basic credentials), a SHA-256 hex digest, or the pepper from the environment. So the whole suite
 * doubles as a test that no raw key or secret reaches events or logs.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { looksLikeKeywardKey } from '@keyward/core';

const captured: string[] = [];
const onEvent = (event: unknown) => {
  captured.push(JSON.stringify(event));
};
subscribe('keyward:events', onEvent);

const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const originals = methods.map((m) => console[m]);
methods.forEach((m, i) => {
  console[m] = (...args: unknown[]) => {
    captured.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
    originals[i]!.apply(console, args);
  };
});
const originalEmitWarning = process.emitWarning;
process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
  captured.push(typeof warning === 'string' ? warning : warning.message);
  return (originalEmitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
} as typeof process.emitWarning;

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.message} ${value.stack ?? ''}` : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const KEY_SHAPE = /[a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{22,}/g;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/;
/** Runs of base64 or base64url characters long enough to encode a key (26 characters: the shortest credential above). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{35,}/g;

/** Keys (checksum-verified) and JWTs in `text`, described with `how` they were found. */
function credentialsIn(text: string, how: string, found: string[]): void {
  for (const m of text.matchAll(KEY_SHAPE)) {
    if (looksLikeKeywardKey(m[0])) found.push(`a keyward key${how} (${m[0].slice(0, 8)}…)`);
  }
  if (JWT_SHAPE.test(text)) found.push(`a JWT${how}`);
}

/** Returns a description of each secret-looking value found in `text` (never the value itself). */
export function findLeaks(text: string): string[] {
  const found: string[] = [];
  credentialsIn(text, '', found);
  // Encoded in base64 or base64url (HTTP Basic credentials `base64(key:)`, `base64(id:key)`): each long run is decoded
  // from each of its first four characters, since the encoding may start inside it (`/v1/keys/<base64>` is one run).
  for (const m of text.matchAll(BASE64_RUN)) {
    for (let k = 0; k < 4; k++) credentialsIn(Buffer.from(m[0].slice(k), 'base64').toString('latin1'), ' in base64', found);
  }
  if (/(^|[^0-9a-f])[0-9a-f]{64}([^0-9a-f]|$)/.test(text)) found.push('a SHA-256 hex digest');
  const pepper = process.env.KEYWARD_PEPPER;
  if (pepper && pepper.length >= 8 && text.includes(pepper)) found.push('the pepper');
  return found;
}

/**
 * Runs `fn` while the guard is off the channel, for a test of what keyward does when nobody subscribes to it (a
 * subscriber makes every event wanted). Whatever `fn`'s own listeners receive must be handed to `capture`, so it is
 * still checked for leaks.
 */
export async function withoutChannel<T>(fn: (capture: (event: unknown) => void) => Promise<T> | T): Promise<T> {
  unsubscribe('keyward:events', onEvent);
  try {
    return await fn(onEvent);
  } finally {
    subscribe('keyward:events', onEvent);
  }
}

afterAll(() => {
  unsubscribe('keyward:events', onEvent);
  methods.forEach((m, i) => {
    console[m] = originals[i]!;
  });
  process.emitWarning = originalEmitWarning;
  const leaks = findLeaks(captured.join('\n'));
  captured.length = 0;
  if (leaks.length > 0) throw new Error(`leak guard: events or logs of this test file contain ${[...new Set(leaks)].join(', ')}`);
});
