/**
 * Hostile requests, sent as raw bytes over a socket: repeated and conflicting credentials, truncated tokens, forged
 * `X-Forwarded-For` and `Forwarded` values, look-alike referrers, 9 KB headers, control characters, odd methods
 * and paths, keys in the query string, `__proto__` as a header name. Every feature is on (trusted proxies, global
 * and per-key restrictions, rate limits and a quota, failed-auth counting, tokens, metrics, anomaly detection).
 * Then hostile requests to the token endpoint: odd bodies and content types, repeated parameters, wrong, missing and
 * conflicting client credentials. The same seeded sequences go to every adapter: none may answer 5xx, leave a request
 * without an answer, or answer differently from the others.
 */
import { connect } from 'node:net';
import type { Keyward } from '@keyward/core';
import { ADAPTERS, DEFAULT_ROUTES, type RunningApp } from './harness';
import { agree, comparableAnswer, hostileCredentials, hostileKeyward, hostileValues, HOSTILE_NAMES, seeded, type Credentials } from './hostile';

const REQUESTS = 300;
const TOKEN_REQUESTS = 150;

/** The requests of the sequence of `seed`, each as the raw bytes of an HTTP/1.1 request. */
function hostileRequests(seed: number, c: Credentials): string[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const values = hostileValues(c);
  const names = HOSTILE_NAMES;
  const paths = ['/docs', '/docs', '/both', '/heavy', '/health', '/open', `/docs?api_key=${encodeURIComponent(c.key)}`, '/docs?api_key=a&api_key=b', `/docs?q=${'a'.repeat(3000)}`, '/docs?x=%ZZ'];
  // OPTIONS only where the app routes it: elsewhere Express answers an OPTIONS it admitted itself (200, `Allow`) and
  // Koa and Nest with 404, after keyward's identical decision.
  const methods = ['GET', 'GET', 'GET', 'POST', 'OPTIONS', 'HEAD', 'DELETE'];
  const requests: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const method = pick(methods);
    const path = pick(paths);
    const lines = [`${method} ${method === 'OPTIONS' ? path.replace(/^\/[a-z]+/, '/docs') : path} HTTP/1.1`, 'Host: 127.0.0.1'];
    const headers = Math.floor(random() * 6);
    for (let j = 0; j < headers; j++) lines.push(`${pick(names)}: ${pick(values)}`);
    if (random() < 0.5) lines.push(`X-API-Key: ${c.key}`);
    requests.push(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`);
  }
  return requests;
}

/** Hostile requests to the token endpoint: odd bodies, content types, client credentials, methods and repeats. */
function hostileTokenRequests(seed: number, c: Credentials, keyId: string): string[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const bodies = [
    '', 'grant_type=client_credentials', `grant_type=client_credentials&client_secret=${c.key}`, `grant_type=client_credentials&client_id=${keyId}&client_secret=${c.key}`,
    `grant_type=client_credentials&client_secret=${c.key}&scope=docs:read`, `grant_type=client_credentials&client_secret=${c.key}&scope=docs:write`,
    `grant_type=client_credentials&client_secret=${c.key}&client_secret=${c.key}`, `grant_type=client_credentials&grant_type=client_credentials&client_secret=${c.key}`,
    `grant_type=client_credentials&scope=${'a%20'.repeat(2000)}&client_secret=${c.key}`, '{"grant_type":"client_credentials"}', '[1,2]', 'null', '%', '%%%&&&===',
    'grant_type[]=x', 'grant_type[a]=b', `grant_type=password&client_secret=${c.key}`, `grant_type=client_credentials&scope=&client_secret=${c.key}`,
    `grant_type=client_credentials&client_id=${encodeURIComponent(c.key)}`, `grant_type=client_credentials&client_secret=${c.token}`, 'x'.repeat(20_000),
  ];
  const authorizations = ['', basic(keyId, c.key), basic('', c.key), basic(c.key, ''), basic('someone', c.key), basic(keyId, c.other), 'Basic ###', 'Basic', `Bearer ${c.key}`, `Bearer ${c.token}`, basic('%zz', c.key)];
  const types = ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'application/json', 'text/plain', '', 'application/x-www-form-urlencoded; charset=utf-8'];
  const requests: string[] = [];
  for (let i = 0; i < TOKEN_REQUESTS; i++) {
    const body = pick(bodies);
    const authorization = pick(authorizations);
    const type = pick(types);
    const head = [
      'POST /oauth/token HTTP/1.1', 'Host: 127.0.0.1',
      ...(authorization ? [`Authorization: ${authorization}`] : []), ...(type ? [`Content-Type: ${type}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close',
    ];
    requests.push(`${head.join('\r\n')}\r\n\r\n${body}`);
  }
  return requests;
}

/** An HTTP/1.1 answer as {@link comparableAnswer} compares it: status line, headers and body (chunked or not) parsed. */
function comparable(raw: string): string | undefined {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end === -1 ? raw.length : end).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end === -1 ? '' : raw.slice(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    let out = '';
    for (let at = 0; ;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.slice(at, eol), 16);
      if (!(size > 0)) break;
      out += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = out;
  }
  return comparableAnswer(status, headers, body);
}

/** Sends raw bytes on a new connection; the status of the answer, or `"none"` (closed unanswered) or `"timeout"`, and the comparable answer. */
function send(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (head.length < 65_536) head += chunk.toString('latin1');
    });
    socket.on('error', () => resolve('error'));
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      resolve(status === undefined ? 'none' : `${status} ${comparable(head) ?? ''}`);
    });
    socket.setTimeout(5000, () => {
      resolve('timeout');
      socket.destroy();
    });
    // Written, not ended: a client that half-closes before its answer gets none from Node once the answer has to wait
    // (a Redis round trip), whatever the framework. `Connection: close` has the server close after answering.
    socket.write(raw, 'latin1');
  });
}

/** What each adapter answered, in order (status and comparable answer), for the agreement check at the end. */
const answered = new Map<string, string[]>();
const SEED = 20261129;

describe.each(ADAPTERS)('conformance: hostile requests on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let credentials: Credentials;
  let keyId: string;

  beforeAll(async () => {
    kw = hostileKeyward();
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES, endpoints: [{ method: 'POST', path: '/oauth/token', handler: kw.tokens.endpoint() }] });
    ({ credentials, keyId } = await hostileCredentials(kw));
  });
  afterAll(async () => {
    await app.close();
    await kw.close();
  });

  it(`answers each of ${REQUESTS} hostile requests, never with 5xx`, async () => {
    const statuses: string[] = [];
    const { key, other, token } = credentials;
    // The credentials differ per adapter; the sequence picks them by position, so it is the same sequence.
    for (const raw of hostileRequests(SEED, { key, other, token })) statuses.push(await send(app.url, raw));
    const unanswered = statuses.filter((s) => !/^[1-4]\d\d /.test(s));
    expect(unanswered).toEqual([]);
    // Most of the sequence reaches keyward's own answers, not only the HTTP parser's 400.
    for (const status of ['200', '401', '403']) expect(statuses.map((s) => s.slice(0, 3))).toContain(status);
    answered.set(adapter.name, statuses);
  }, 60_000);

  it(`answers each of ${TOKEN_REQUESTS} hostile token-endpoint requests, never with 5xx`, async () => {
    const statuses: string[] = [];
    for (const raw of hostileTokenRequests(SEED + 1, credentials, keyId)) statuses.push(await send(app.url, raw));
    expect(statuses.filter((s) => !/^[1-4]\d\d /.test(s))).toEqual([]);
    for (const status of ['200', '400', '401']) expect(statuses.map((s) => s.slice(0, 3))).toContain(status);
    answered.set(`${adapter.name} token endpoint`, statuses);
  }, 60_000);
});

describe('conformance: hostile requests, every adapter alike', () => {
  it.each(['', ' token endpoint'])('gives the same answer (status, keyward headers, body) to each request of the%s sequence on every adapter', (suffix) => {
    const [first, ...rest] = [...answered.entries()].filter(([name]) => ADAPTERS.some((a) => `${a.name}${suffix}` === name));
    expect(first).toBeDefined();
    expect(rest).toHaveLength(ADAPTERS.length - 1);
    for (const [name, statuses] of rest) {
      const differing = statuses.flatMap((s, i) => (agree(s, first![1][i]!) ? [] : [`request ${i}: ${first![0]} ${first![1][i]}, ${name} ${s}`]));
      expect(differing).toEqual([]);
    }
    // most answers are keyward's own, compared in full
    expect(first![1].filter((s) => s.length > 4).length).toBeGreaterThan(first![1].length / 2);
  });
});
