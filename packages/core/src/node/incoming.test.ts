import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onResponseDone } from './incoming';
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
});
