import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { toAuthRequest } from './incoming';
import type { AuthRequest } from '../model';

/** Sends one raw HTTP/1 request to a server whose handler runs `before` on the request, then reads it. */
async function read(head: string, before: (req: IncomingMessage) => void): Promise<AuthRequest> {
  let seen: AuthRequest | undefined;
  const server = createServer((req, res) => {
    before(req);
    seen = toAuthRequest(req);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write(`GET /x HTTP/1.1\r\nHost: h\r\n${head}Connection: close\r\n\r\n`));
      socket.on('data', () => {});
      socket.on('end', () => resolve());
      socket.on('error', reject);
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
  return seen!;
}

describe('toAuthRequest and a middleware that changed req.headers before it', () => {
  it('reads a field added, not one deleted, and the new value of one replaced', async () => {
    const added = await read('Cookie: k=abc\r\n', (req) => { req.headers['x-api-key'] = 'abc'; }); // e.g. a credential taken from a cookie
    expect(added.headers['x-api-key']).toBe('abc');
    const deleted = await read('X-API-Key: abc\r\nX-Strip: 1\r\n', (req) => { delete req.headers['x-api-key']; });
    expect(deleted.headers['x-api-key']).toBeUndefined();
    const both = await read('X-API-Key: abc\r\nX-Other: 1\r\n', (req) => { delete req.headers['x-other']; req.headers['x-api-key'] = 'def'; });
    expect([both.headers['x-api-key'], both.headers['x-other']]).toEqual(['def', undefined]);
  });

  it('still keeps every value of a field the client repeated, alongside a field a middleware added', async () => {
    const seen = await read('Authorization: Bearer a\r\nAuthorization: Bearer b\r\nX-API-Key: k\r\nX-API-Key: l\r\n', (req) => { req.headers['x-added'] = '1'; });
    expect(seen.headers).toMatchObject({ authorization: ['Bearer a', 'Bearer b'], 'x-api-key': ['k', 'l'], 'x-added': '1' });
    expect(Object.getPrototypeOf(seen.headers)).toBe(null);
  });
});

describe('toAuthRequest of a request whose connection closed before it was read', () => {
  /** Sends a request and closes the connection at once; the server reads the request only once the socket closed. */
  async function readAfterClose(): Promise<AuthRequest> {
    let seen: ((value: AuthRequest) => void) | undefined;
    const result = new Promise<AuthRequest>((resolve) => (seen = resolve));
    const server = createServer((req, res) => {
      // as an async middleware (a session store, a body parser) in front of keyward lets the socket close meanwhile
      const read = () => { seen!(toAuthRequest(req)); res.end(); };
      if (req.socket.destroyed) read();
      else req.socket.once('close', read);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
        socket.write('GET /x HTTP/1.1\r\nHost: h\r\n\r\n');
        setTimeout(() => socket.destroy(), 20);
      });
      socket.on('error', () => {});
      return await result;
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }

  it('says the connection closed, since the socket no longer knows its peer', async () => {
    const closed = await readAfterClose();
    expect(closed.remoteAddress).toBeUndefined();
    expect(closed.closed).toBe(true);
  });

  it('leaves an open connection\'s request as it was: the peer address, no closed flag', async () => {
    const open = await read('', () => {});
    expect(open.remoteAddress).toBe('127.0.0.1');
    expect('closed' in open).toBe(false);
  });
});
