/**
 * The leak guard: runs with every test file of the suite. It listens to every keyward event of every instance (the
 * `keyward:events` diagnostics channel), and captures console output and process warnings; after the file's tests it
 * fails the file if any of it contains a keyward key (checksum-verified), a JWT, a SHA-256 hex digest, or the pepper
 * from the environment. So the whole suite doubles as a test that no raw key or secret reaches events or logs.
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

/** Returns a description of each secret-looking value found in `text` (never the value itself). */
export function findLeaks(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/[a-z][a-z0-9]{0,15}_[a-z0-9]{1,16}_[0-9A-Za-z]{22,}/g)) {
    if (looksLikeKeywardKey(m[0])) found.push(`a keyward key (${m[0].slice(0, 8)}…)`);
  }
  if (/eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/.test(text)) found.push('a JWT');
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
