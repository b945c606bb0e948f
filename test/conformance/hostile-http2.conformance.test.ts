/**
 * Hostile requests over HTTP/2 (h2c), to the adapters that run on Node's HTTP/2 API (Koa, Nest on Fastify): the values
 * of the HTTP/1 sequence, with what only HTTP/2 carries besides: a field repeated as separate fields (credentials,
 * forwarding headers and cookies among them), odd methods and paths as pseudo-headers. Every feature is on. Neither
 * adapter may answer 5xx, leave a stream without an answer, or answer differently from the other.
 */
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import type { Keyward } from '@keyward/core';
import { DEFAULT_ROUTES, type AdapterUnderTest, type RunningApp } from './harness';
import { koaHttp2Adapter } from './adapters/koa';
import { nestFastifyHttp2Adapter } from './adapters/nest-fastify';
import { agree, comparableAnswer, hostileCredentials, hostileKeyward, hostileValues, HOSTILE_NAMES, seeded, type Credentials } from './hostile';

const REQUESTS = 300;
const SEED = 20261130;
const HTTP2_ADAPTERS: readonly AdapterUnderTest[] = [koaHttp2Adapter, nestFastifyHttp2Adapter];

/** The requests of the sequence of `seed`, as HTTP/2 header blocks: a name given an array is sent once per value. */
function hostileStreams(seed: number, c: Credentials): OutgoingHttpHeaders[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const values = hostileValues(c);
  // Only routed paths: Fastify matches `/docs/` to no route (404 before Nest's guard runs) where Koa's router takes it,
  // a difference of the frameworks' routing that keyward does not see.
  const paths = ['/docs', '/docs', '/both', '/heavy', '/health', '/open', `/docs?api_key=${encodeURIComponent(c.key)}`, '/docs?api_key=a&api_key=b', '/docs?x=%ZZ'];
  const methods = ['GET', 'GET', 'GET', 'POST', 'HEAD', 'DELETE'];
  const streams: OutgoingHttpHeaders[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const headers: Record<string, string | string[]> = { ':method': pick(methods), ':path': pick(paths) };
    const add = (name: string, value: string) => {
      const seen = headers[name];
      headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    };
    const count = Math.floor(random() * 6);
    for (let j = 0; j < count; j++) add(pick(HOSTILE_NAMES.filter((n) => n !== '__proto__' && n !== 'constructor')), pick(values));
    if (random() < 0.5) add('x-api-key', c.key);
    streams.push(headers);
  }
  return streams;
}

/**
 * One stream: the answer's status and its comparable answer ({@link comparableAnswer}), `"refused"` when the client
 * itself will not send the header block, or `"error"`.
 */
function send(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<string> {
  return new Promise((resolve) => {
    let stream;
    try {
      stream = session.request(headers);
    } catch {
      return resolve('refused'); // a value Node's HTTP/2 client will not encode (the same on both adapters)
    }
    let status: number | undefined;
    let received: Record<string, string> = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      received = Object.fromEntries(Object.entries(h).map(([name, value]) => [name, String(value)]));
    });
    stream.on('data', (chunk: string) => { body += chunk; });
    stream.on('end', () => resolve(status === undefined ? 'none' : `${status} ${comparableAnswer(status, received, body) ?? ''}`));
    stream.on('error', () => resolve('error'));
    stream.on('close', () => resolve(status === undefined ? 'none' : `${status} ${comparableAnswer(status, received, body) ?? ''}`));
    stream.end();
  });
}

const answered = new Map<string, string[]>();

describe.each(HTTP2_ADAPTERS)('conformance: hostile HTTP/2 requests on $name', (adapter) => {
  let kw: Keyward;
  let app: RunningApp;
  let session: ClientHttp2Session;
  let credentials: Credentials;

  beforeAll(async () => {
    kw = hostileKeyward();
    app = await adapter.start({ keyward: kw, routes: DEFAULT_ROUTES });
    ({ credentials } = await hostileCredentials(kw));
    session = connect(app.url);
  });
  afterAll(async () => {
    session.close();
    await app.close();
    await kw.close();
  });

  it(`answers each of ${REQUESTS} hostile streams, never with 5xx`, async () => {
    const statuses: string[] = [];
    for (const headers of hostileStreams(SEED, credentials)) statuses.push(await send(session, headers));
    expect(statuses.filter((s) => !/^[1-4]\d\d /.test(s) && s !== 'refused')).toEqual([]);
    for (const status of ['200', '401', '403']) expect(statuses.map((s) => s.slice(0, 3))).toContain(status);
    answered.set(adapter.name, statuses);
  }, 60_000);
});

describe('conformance: hostile HTTP/2 requests, both adapters alike', () => {
  it('gives the same answer (status, keyward headers, body) to each stream of the sequence on both adapters', () => {
    const [[firstName, first] = ['', []], ...rest] = [...answered.entries()];
    expect(rest).toHaveLength(HTTP2_ADAPTERS.length - 1);
    for (const [name, statuses] of rest) {
      expect(statuses.flatMap((s, i) => (agree(s, first[i]!) ? [] : [`stream ${i}: ${firstName} ${first[i]}, ${name} ${s}`]))).toEqual([]);
    }
    expect(first.filter((s) => s.length > 4).length).toBeGreaterThan(first.length / 2); // most are keyward's answers, compared in full
  });
});
