import { execFile } from 'node:child_process';
import { createServer, IncomingMessage, request as httpRequest, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { connect, Socket, type AddressInfo } from 'node:net';
import { onResponseDone } from './response-done';
import type { CompletionInfo } from '../model';

function serve(handler: (res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_req, res) => handler(res));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  }));
}

function get(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(body)); // the server went away mid-body
      res.on('aborted', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('onResponseDone', () => {
  it('counts streamed string and buffer chunks in bytes, once, for every mount on the response', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((res) => {
      onResponseDone(res, (i) => seen.push(i));
      onResponseDone(res, (i) => seen.push(i));
      res.statusCode = 207;
      res.write('héllo ');                 // 7 bytes
      res.write(Buffer.from('wörld'));     // 6 bytes
      res.end('!', 'utf8');                // 1 byte
    });
    expect(await get(app.url)).toBe('héllo wörld!');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: 207, bytes: 14 }, { status: 207, bytes: 14 }]);
    await app.close();
  });

  it('reports the status a response of another prototype answers (as Express swaps in its own), and of Node’s own', async () => {
    const seen: CompletionInfo[] = [];
    // A framework's response prototype that keeps the status elsewhere: the status must be read through it.
    const framework = Object.create(ServerResponse.prototype, {
      statusCode: { get(this: { kept?: number }) { return this.kept ?? 200; }, set(this: { kept?: number }, v: number) { this.kept = v; }, configurable: true },
    }) as object;
    let swap = true;
    const app = await serve((res) => {
      if (swap) {
        Object.setPrototypeOf(res, framework);
        delete (res as { statusCode?: number }).statusCode; // Node's own data property would hide the accessor
      }
      onResponseDone(res, (i) => seen.push(i), 'GET');
      res.statusCode = swap ? 203 : 202;
      res.end('ok');
    });
    expect(await get(app.url)).toBe('ok');
    swap = false;
    expect(await get(app.url)).toBe('ok');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: 203, bytes: 2 }, { status: 202, bytes: 2 }]);
    await app.close();
  });

  it('reports 0 bytes for HEAD and leaves untracked responses alone', async () => {
    const seen: CompletionInfo[] = [];
    let tracked = true;
    const app = await serve((res) => {
      if (tracked) onResponseDone(res, (i) => seen.push(i));
      res.end('body');
    });
    await get(app.url, 'HEAD');
    tracked = false;
    expect(await get(app.url)).toBe('body');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: 200, bytes: 0 }]);
    await app.close();
  });

  it('reports 0 bytes for a 204 or a 304 written with a body: Node sends none of it', async () => {
    const seen: CompletionInfo[] = [];
    let status = 304;
    const app = await serve((res) => {
      onResponseDone(res, (i) => seen.push(i), 'GET');
      res.statusCode = status;
      res.write('x'.repeat(300));
      res.end('y');
    });
    expect(await get(app.url)).toBe('');
    status = 204;
    expect(await get(app.url)).toBe('');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: 304, bytes: 0 }, { status: 204, bytes: 0 }]);
    await app.close();
  });

  it('reports a response whose client went away', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((res) => {
      onResponseDone(res, (i) => seen.push(i));
      res.write('partial');
      setTimeout(() => res.destroy(), 10);
    });
    await get(app.url).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([{ status: 200, bytes: 7 }]);
    await app.close();
  });

  it('reports every response of a keep-alive connection, and reads HEAD from the request when not told', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((res) => {
      onResponseDone(res, (i) => seen.push(i));
      res.end('hello');
    });
    const { port } = new URL(app.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([{ status: 200, bytes: 5 }, { status: 200, bytes: 0 }, { status: 200, bytes: 5 }]);
    socket.destroy();
    await app.close();
  });

  it('takes the method from the caller', () => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    const seen: CompletionInfo[] = [];
    onResponseDone(res, (i) => seen.push(i), 'HEAD');
    res.write('ignored');
    res.emit('close');
    res.emit('close');
    expect(seen).toEqual([{ status: 200, bytes: 0 }]);
  });

  it('does not count what is written after end(): Node sends none of it', async () => {
    const seen: CompletionInfo[] = [];
    const app = await serve((res) => {
      onResponseDone(res, (i) => seen.push(i));
      res.end('abc');
      res.end('defgh');
      res.on('error', () => {});
      res.write('ijk');
    });
    expect(await get(app.url)).toBe('abc');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([{ status: 200, bytes: 3 }]);
    await app.close();
  });

  it.each([
    ["Node's own", false],
    ["its own (Express's, read through Node's _closed field)", true],
  ])('reports, once, a response whose client left before tracking started (an asynchronous decision): a response whose prototype is %s', async (_kind, ownPrototype) => {
    const seen: CompletionInfo[] = [];
    let tracked!: () => void;
    const done = new Promise<void>((r) => { tracked = r; });
    const server = createServer((req, res) => {
      // As Express does: each response gets the app's prototype, above Node's.
      if (ownPrototype) Object.setPrototypeOf(res, Object.create(Object.getPrototypeOf(res) as object));
      // As an adapter does once a pending decision resolves: by then the client has gone and `close` was emitted.
      res.once('close', () => setTimeout(() => {
        onResponseDone(res, (i) => seen.push(i), req.method);
        onResponseDone(res, (i) => seen.push(i), req.method); // a second mount shares the report
        expect(seen).toEqual([]); // not at once: the middleware after the mount still runs before it
        res.end('sent nowhere');
        tracked();
      }, 10));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('error', () => {});
      setTimeout(() => socket.destroy(), 20);
      await done;
      for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([{ status: 200, bytes: 0 }, { status: 200, bytes: 0 }]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('prepareResponseTracking(): a middleware that kept res.write/res.end before the first tracked response still counts', async () => {
    // A fresh process, so nothing has wrapped ServerResponse yet; the built package, as an app loads it.
    const script = `
      const http = require('node:http');
      const { onResponseDone, prepareResponseTracking } = require('@keyward/core');
      prepareResponseTracking(); // what the adapters do when a mount is created
      const seen = [];
      const server = http.createServer((req, res) => {
        const write = res.write, end = res.end; // as compression does, before keyward runs
        res.write = (c) => write.call(res, c);
        res.end = (c) => end.call(res, c);
        onResponseDone(res, (i) => seen.push(i), req.method);
        res.write('12345');
        res.end('678');
      });
      server.listen(0, '127.0.0.1', () => {
        http.get({ port: server.address().port, host: '127.0.0.1', agent: false }, (r) => {
          r.resume();
          r.on('end', () => setTimeout(() => { console.log(JSON.stringify(seen)); server.close(); }, 20));
        });
      });`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { cwd: __dirname });
    expect(JSON.parse(stdout)).toEqual([{ status: 200, bytes: 8 }]);
  });
});
