/**
 * What the hostile-request conformance files share: a seeded generator, the credentials a sequence uses, the hostile
 * header values and names, and one keyward instance with every feature on, set up alike for every adapter.
 */
import { randomBytes } from 'node:crypto';
import { createKeyward, type Keyward } from '@keyward/core';
import { ANSWER_HEADERS } from './harness';
import { onStores } from './stores';

const SECRET = randomBytes(32).toString('base64url');

/** The bench's seeded generator (mulberry32), so every adapter gets the same requests, and a failure can be replayed. */
export const seeded = (require('../../bench/lib/stats') as { seeded: (seed: number) => () => number }).seeded;

/** The credentials a sequence can use; the same values on every adapter's instance. */
export interface Credentials {
  readonly key: string;
  readonly other: string;
  readonly token: string;
}

/** Header values a hostile client sends: odd bytes, forged addresses, credentials whole, cut and misplaced, look-alike origins, bots. */
export function hostileValues(c: Credentials): readonly string[] {
  return [
    '', ' ', '\t', 'a'.repeat(9000), '%', '%00', '..', 'null', '*', 'unknown', '_hidden', '\u00ff'.repeat(10),
    '::ffff:203.0.113.9', '203.0.113.9', '203.0.113.9:80', '[2001:db8::1]:80', 'fe80::1%eth0', '0x7f.1', '127.1', '999.1.1.1',
    '1.1.1.1, 2.2.2.2, 127.0.0.1', '203.0.113.9, 127.0.0.1', 'ffff::' + 'f'.repeat(100),
    'for="[2001:db8::1]:4711"', 'for=203.0.113.60;proto=http;by=127.0.0.1', 'for=', ';;;,,,', 'for=127.0.0.1, for=203.0.113.1',
    c.key, `${c.key} `, c.other, `kw_live_${'A'.repeat(40)}`, `Bearer ${c.token}`, `Bearer ${c.token.slice(0, -2)}`, `Bearer ${c.key}`,
    'Bearer eyJ.eyJ.', 'Bearer', 'bearer  x', `Basic ${Buffer.from(`:${c.key}`).toString('base64')}`,
    'https://app.example.com', 'https://example.com', 'https://example.com.evil.test', 'https://evil.test/?https://app.example.com', 'http://[::1', 'javascript:alert(1)',
    'curl/8.0', 'python-requests/2.31', 'Mozilla/5.0 (X11; Linux x86_64)', 'Googlebot/2.1',
  ];
}

/** The header names those values go under, repeated ones and prototype names among them. */
export const HOSTILE_NAMES: readonly string[] = ['x-api-key', 'x-api-key', 'authorization', 'x-forwarded-for', 'forwarded', 'origin', 'referer', 'user-agent', 'x-request-id', 'cookie', '__proto__', 'constructor', 'x-country'];

/** A keyward instance with every feature on (trusted proxies, restrictions, limits, failed-auth counting, tokens, metrics, anomalies). */
export function hostileKeyward(): Keyward {
  // The query-string credential option warns once per process: expected here, not printed.
  const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    const kw = createKeyward(onStores({
      publicPaths: ['/health'],
      trustProxy: ['loopback'],
      bearer: true,
      queryParam: 'api_key',
      restrictions: { ip: { deny: ['203.0.113.0/24', '2001:db8::/32'] }, userAgents: { denyBots: true } },
      limits: {
        rules: { burst: { points: 1_000_000, window: '10s', by: 'key' }, address: { points: 1_000_000, window: '10s', by: 'address' } },
        quotas: { daily: { requests: 1_000_000, period: 'day' } },
      },
      authFailures: { max: 1_000_000, window: '1m', block: '1m' },
      tokens: {
        issuers: [{ issuer: 'https://other.example', audience: 'api', secret: SECRET, algorithms: ['HS256'] }],
        signing: { issuer: 'https://issuer.example', audience: 'api', keys: [{ secret: SECRET, alg: 'HS256', kid: 'k1' }] },
      },
      metrics: true,
      anomalies: true,
    }));
    for (const [, options] of warn.mock.calls) expect(options).toMatchObject({ code: 'KEYWARD_QUERY_CREDENTIALS' });
    return kw;
  } finally {
    warn.mockRestore();
  }
}

/** The instance's credentials: a referrer-restricted key, a plain key, a token; and the restricted key's id. */
export async function hostileCredentials(kw: Keyward): Promise<{ credentials: Credentials; keyId: string }> {
  const restricted = await kw.keys.create({ owner: 'acme', scopes: ['docs:read'], restrictions: { referrers: { allow: ['https://*.example.com'], allowMissing: true } } });
  const plain = await kw.keys.create({ owner: 'beta', scopes: ['docs:read', 'docs:write', 'users:view'] });
  const { token } = await kw.tokens.issue({ subject: 'user-1', scopes: ['docs:read'] });
  return { credentials: { key: restricted.key, other: plain.key, token }, keyId: restricted.record.id };
}

/**
 * An answer as the adapters are compared by it: its status, keyward's headers ({@link ANSWER_HEADERS}, in one order)
 * and its body, with what differs by instance or by the moment taken out (key ids, tokens, the seconds left in a
 * window, the count left in one). `undefined` for a framework's own answer (a router's 404 or 405, Node's 431, a body
 * parser's 400): each framework words it its way. keyward answers a refusal as problem+json, and the token endpoint
 * with `Pragma: no-cache`.
 */
export function comparableAnswer(status: number, received: Readonly<Record<string, string>>, body: string): string | undefined {
  const headers = Object.fromEntries(ANSWER_HEADERS.filter((h) => received[h] !== undefined).map((h) => [h, received[h]]));
  if (status >= 400 && !/problem\+json/.test(headers['content-type'] ?? '') && headers['pragma'] === undefined) return undefined;
  const vary = (text: string) => text.replace(/key_[A-Za-z0-9]+/g, 'key_…').replace(/"access_token":"[^"]*"/g, '"access_token":"…"').replace(/\b([rt])=\d+/g, '$1=…');
  return JSON.stringify({ status, headers: vary(JSON.stringify(headers)), body: vary(body) });
}

/**
 * Two adapters' answers to one request, each `"<status> <comparable answer>"`, agree: the same status, and the same
 * keyward answer (headers and body) unless one of them is the framework's own (see {@link comparableAnswer}: a body
 * parser that refused the body before keyward ran, as Nest's JSON parser on Express does with a body labelled JSON
 * that does not parse).
 */
export function agree(a: string, b: string): boolean {
  if (a === b) return true;
  return a.slice(0, 3) === b.slice(0, 3) && (a.slice(4) === '' || b.slice(4) === '');
}
