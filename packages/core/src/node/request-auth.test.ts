import { createServer, IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareRequestAuth, setRequestAuth } from './request-auth';
import type { Principal } from '../model';

const principal = Object.freeze({ id: 'k1' }) as unknown as Principal;

/** One request to a plain Node server whose handler runs `handle` on the request. */
async function onRequest(handle: (req: IncomingMessage) => unknown): Promise<unknown> {
  let seen: unknown;
  const server: Server = createServer((req, res) => { seen = handle(req); res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await fetch(`http://127.0.0.1:${port}/`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return seen;
}

describe('setRequestAuth', () => {
  it('sets a plain own property on a plain Node request, and leaves Node\'s prototypes alone', async () => {
    const seen = await onRequest((req) => {
      setRequestAuth(req, principal);
      return { own: Object.prototype.hasOwnProperty.call(req, 'auth'), value: (req as { auth?: Principal }).auth };
    });
    expect(seen).toEqual({ own: true, value: principal });
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'auth')).toBeUndefined();
  });

  it('installs the accessor on the prototype right above IncomingMessage.prototype, once, and shares it', () => {
    const base = Object.create(IncomingMessage.prototype) as object;
    const appA = Object.create(base) as object;
    const appB = Object.create(base) as object;
    const r1 = Object.create(appA) as { auth?: Principal };
    const r2 = Object.create(appB) as { auth?: Principal };
    setRequestAuth(r1, principal);
    expect([Object.prototype.hasOwnProperty.call(r1, 'auth'), r1.auth]).toEqual([false, principal]);
    expect(typeof Object.getOwnPropertyDescriptor(base, 'auth')?.get).toBe('function');
    expect(r2.auth).toBeUndefined(); // another request of another app, nothing set
    setRequestAuth(r2, undefined);
    expect(r2.auth).toBeUndefined();
    r2.auth = principal; // assigned by the app, as a property would be
    expect(r2.auth).toBe(principal);
  });

  it('keeps a plain property where something else defines auth on the chain, or the request has its own', () => {
    const base = Object.create(IncomingMessage.prototype) as object;
    let stored: unknown;
    Object.defineProperty(base, 'auth', { configurable: true, get: () => stored, set: (v) => { stored = v; } });
    const r = Object.create(Object.create(base)) as { auth?: Principal };
    setRequestAuth(r, principal);
    expect(stored).toBe(principal); // the app's own accessor was used, not replaced
    const frozenBase = Object.freeze(Object.create(IncomingMessage.prototype)) as object;
    const r3 = Object.create(Object.create(frozenBase)) as { auth?: Principal };
    setRequestAuth(r3, principal);
    expect([Object.prototype.hasOwnProperty.call(r3, 'auth'), r3.auth]).toEqual([true, principal]);
  });

  it('keeps a plain property on a request that has its own auth, also once the accessor serves its prototype', () => {
    const base = Object.create(IncomingMessage.prototype) as object;
    const proto = Object.create(base) as object;
    const first = Object.create(proto) as { auth?: Principal };
    setRequestAuth(first, principal); // installs the accessor and remembers the prototype
    expect(Object.prototype.hasOwnProperty.call(first, 'auth')).toBe(false);
    const owned = Object.create(proto) as { auth?: Principal };
    Object.defineProperty(owned, 'auth', { configurable: true, enumerable: true, writable: true, value: 'theirs' });
    setRequestAuth(owned, principal);
    expect([Object.getOwnPropertyDescriptor(owned, 'auth')?.value, owned.auth]).toEqual([principal, principal]);
    const next = Object.create(proto) as { auth?: Principal };
    setRequestAuth(next, principal);
    expect([Object.prototype.hasOwnProperty.call(next, 'auth'), next.auth]).toEqual([false, principal]);
  });

  it('assigns plainly, request after request, where no Express-style prototype is on the chain (Fastify\'s request)', () => {
    class FastifyLikeRequest {}
    for (let i = 0; i < 3; i++) {
      const r = new FastifyLikeRequest() as { auth?: Principal };
      setRequestAuth(r, principal);
      expect([Object.prototype.hasOwnProperty.call(r, 'auth'), r.auth]).toEqual([true, principal]);
    }
    expect(Object.getOwnPropertyDescriptor(FastifyLikeRequest.prototype, 'auth')).toBeUndefined();
  });

  it('prepares a request prototype ahead of any request: only one right above IncomingMessage.prototype, once', () => {
    const base = Object.create(IncomingMessage.prototype) as object;
    expect(prepareRequestAuth(base)).toBe(true);
    expect(prepareRequestAuth(base)).toBe(true); // already there: left as is
    const r = Object.create(Object.create(base)) as { auth?: Principal };
    r.auth = principal; // before keyward ever ran on it: the accessor takes it, no own property is made
    expect([Object.prototype.hasOwnProperty.call(r, 'auth'), r.auth]).toEqual([false, principal]);
    expect(prepareRequestAuth(IncomingMessage.prototype)).toBe(false);
    expect(prepareRequestAuth(Object.create(base) as object)).toBe(false); // not right above IncomingMessage.prototype
    const taken = Object.create(IncomingMessage.prototype) as object;
    Object.defineProperty(taken, 'auth', { configurable: true, value: 'theirs', writable: true });
    expect(prepareRequestAuth(taken)).toBe(false);
    expect(Object.getOwnPropertyDescriptor(taken, 'auth')?.value).toBe('theirs');
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'auth')).toBeUndefined();
  });
});
