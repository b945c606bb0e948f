import { connect, createServer, type Http2ServerRequest, type Http2ServerResponse, type OutgoingHttpHeaders } from 'node:http2';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { toAuthRequest } from './incoming';
import { onResponseDone, type NodeResponse } from './response-done';
import type { AuthRequest, CompletionInfo } from '../model';

/** A real HTTP/2 server (h2c) whose handler is `handler`, and a client session to it. */
async function serve(handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const send = (headers: OutgoingHttpHeaders) => new Promise<string>((resolve, reject) => {
    const stream = session.request(headers);
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => { body += c; });
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
    stream.end();
  });
  const close = () => new Promise<void>((r) => { session.close(); server.close(() => r()); });
  return { send, close, session };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('toAuthRequest on HTTP/2', () => {
  it('keeps repeated fields, joins cookie crumbs, leaves pseudo-headers out', async () => {
    let seen: AuthRequest | undefined;
    const app = await serve((req, res) => { seen = toAuthRequest(req); res.end(); });
    await app.send({ ':method': 'POST', ':path': '/v1/docs?page=2&x=y', 'x-api-key': ['a', 'b'], cookie: ['s=1', 't=2'], 'user-agent': 'ua/1' });
    expect(seen).toMatchObject({ method: 'POST', path: '/v1/docs', query: 'page=2&x=y', remoteAddress: expect.stringMatching(/127\.0\.0\.1$/) });
    expect(seen!.headers).toEqual({ 'x-api-key': ['a', 'b'], cookie: 's=1; t=2', 'user-agent': 'ua/1' });
    await app.close();
  });

  it('reads req.headers as a middleware before it left them: a field added, one deleted, repeats kept', async () => {
    let seen: AuthRequest | undefined;
    const app = await serve((req, res) => {
      req.headers['x-api-key'] = 'from-cookie';
      delete req.headers['x-strip'];
      seen = toAuthRequest(req);
      res.end();
    });
    await app.send({ ':path': '/', cookie: 'k=from-cookie', 'x-strip': 'gone', authorization: 'Bearer a', 'x-twice': ['1', '2'] });
    expect({ ...seen!.headers }).toEqual({ cookie: 'k=from-cookie', authorization: 'Bearer a', 'x-twice': ['1', '2'], 'x-api-key': 'from-cookie' });
    await app.close();
  });

  it('takes the original URL when given', async () => {
    let seen: AuthRequest | undefined;
    const app = await serve((req, res) => { seen = toAuthRequest(req, '/mounted/v1?q=1'); res.end(); });
    await app.send({ ':path': '/v1?q=1' });
    expect([seen!.method, seen!.path, seen!.query]).toEqual(['GET', '/mounted/v1', 'q=1']);
    await app.close();
  });
});

describe('toAuthRequest and hostile header names', () => {
  it('keeps fields named __proto__ or constructor as fields, on HTTP/2', async () => {
    let seen: AuthRequest | undefined;
    const app = await serve((req, res) => { seen = toAuthRequest(req); res.end(); });
    await app.send({ ':path': '/', ['__proto__']: 'a', constructor: ['b', 'c'], 'x-api-key': 'k' });
    expect(Object.getPrototypeOf(seen!.headers)).toBe(null);
    expect({ ...seen!.headers }).toEqual({ ['__proto__']: 'a', constructor: ['b', 'c'], 'x-api-key': 'k' });
    await app.close();
  });

  it('an HTTP/1 request line claiming HTTP/2.0 is read as the HTTP/1 request it is', async () => {
    const { createServer: createHttp1 } = await import('node:http');
    const { connect: tcp } = await import('node:net');
    let seen: AuthRequest | undefined;
    const server = createHttp1((req, res) => { seen = toAuthRequest(req); res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tcp((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write('GET /x HTTP/2.0\r\nHost: h\r\nconstructor: c\r\nx-api-key: k\r\nx-api-key: k2\r\nConnection: close\r\n\r\n'));
      let data = '';
      socket.on('data', (c) => { data += c; });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    expect(seen!.headers).toMatchObject({ constructor: 'c', 'x-api-key': ['k', 'k2'] });
    await new Promise((r) => server.close(r));
  });
});

describe('onResponseDone on HTTP/2', () => {
  it('counts written and ending chunks once each (HTTP/2 end() hands its chunk to write())', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((_req, res) => {
      onResponseDone(res, (i) => seen.push(i), 'GET');
      onResponseDone(res, (i) => seen.push(i), 'GET');
      res.statusCode = 207;
      res.write('héllo ');             // 7 bytes
      res.write(Buffer.from('wörld')); // 6 bytes
      res.end('!', 'utf8');            // 1 byte
    });
    expect(await app.send({ ':path': '/' })).toBe('héllo wörld!');
    await settle();
    expect(seen).toEqual([{ status: 207, bytes: 14 }, { status: 207, bytes: 14 }]);
    await app.close();
  });

  it('reports 0 bytes for HEAD, and leaves untracked responses alone', async () => {
    const seen: CompletionInfo[] = [];
    let tracked = true;
    const app = await serve((req, res) => {
      if (tracked) onResponseDone(res, (i) => seen.push(i), req.method);
      res.end('body');
    });
    await app.send({ ':method': 'HEAD', ':path': '/' });
    tracked = false;
    expect(await app.send({ ':path': '/' })).toBe('body');
    await settle();
    expect(seen).toEqual([{ status: 200, bytes: 0 }]);
    await app.close();
  });

  it('reports a stream the client cancelled, once, with what was written before', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((_req, res) => {
      onResponseDone(res, (i) => seen.push(i), 'GET');
      res.write('x'.repeat(1000)); // then never ends: the client cancels
    });
    await new Promise<void>((resolve) => {
      const stream = app.session.request({ ':path': '/' });
      stream.once('data', () => { stream.close(0x8); resolve(); });
      stream.on('error', () => {});
    });
    for (let i = 0; i < 50 && seen.length === 0; i++) await settle();
    expect(seen).toEqual([{ status: 200, bytes: 1000 }]);
    await app.close();
  });
});

describe('onResponseDone on HTTP/2: edge cases', () => {
  it('reports a HEAD stream the client cancelled before end() (Node emits no close on its response)', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((req, res) => {
      onResponseDone(res, (i) => seen.push(i), req.method);
      res.writeHead(200, { 'content-type': 'text/plain' }); // headers out, never ended: the client cancels
    });
    await new Promise<void>((resolve) => {
      const stream = app.session.request({ ':method': 'HEAD', ':path': '/' });
      stream.once('response', () => { stream.close(0x8); resolve(); });
      stream.on('error', () => {});
    });
    for (let i = 0; i < 50 && seen.length === 0; i++) await settle();
    expect(seen).toEqual([{ status: 200, bytes: 0 }]);
    await app.close();
  });

  it('does not count what is written after end()', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((req, res) => {
      onResponseDone(res, (i) => seen.push(i), req.method);
      res.end('abc');
      res.end('defgh');
    });
    expect(await app.send({ ':path': '/' })).toBe('abc');
    await settle();
    expect(seen).toEqual([{ status: 200, bytes: 3 }]);
    await app.close();
  });
});

describe('onResponseDone on a response of another kind', () => {
  /** A minimal response-like object: not Node's, so its own methods are wrapped. */
  class Response extends EventEmitter {
    statusCode = 200;
    readonly chunks: unknown[] = [];
    write(chunk: unknown) { this.chunks.push(chunk); return true; }
    end(chunk?: unknown) { if (chunk !== undefined) this.write(chunk); this.emit('close'); return this; }
  }

  it('counts its bytes and sees its close, per object', () => {
    const seen: CompletionInfo[] = [];
    const a = new Response();
    const b = new Response();
    onResponseDone(a as unknown as NodeResponse, (i) => seen.push(i), 'GET');
    onResponseDone(b as unknown as NodeResponse, (i) => seen.push(i), 'GET');
    a.write('abc');
    a.end('de');
    b.statusCode = 404;
    b.end();
    expect(seen).toEqual([{ status: 200, bytes: 5 }, { status: 404, bytes: 0 }]);
  });
});
