import { compileRoutes, pathSegments } from './routes';
import { namer } from './invalid';

const check = (v: unknown) => compileRoutes(v, namer(false), '.routes')!;
const r = (method: string, path: string) => ({ method, path, headers: {} });

describe('route restriction', () => {
  const c = check([
    { methods: ['GET'], path: '/v1/docs/**' },
    { methods: ['post', 'PUT'], path: '/v1/docs/:id/comments' },
    { path: '/v1/users/*/avatar' },
    { path: '/' },
  ]);

  it('matches methods and segment patterns', () => {
    expect(c(r('GET', '/v1/docs'))).toBe(true);
    expect(c(r('GET', '/v1/docs/'))).toBe(true);
    expect(c(r('GET', '/v1/docs/a/b/c'))).toBe(true);
    expect(c(r('HEAD', '/v1/docs/a'))).toBe(true);
    expect(c(r('POST', '/v1/docs/a'))).toBe(false);
    expect(c(r('POST', '/v1/docs/42/comments'))).toBe(true);
    expect(c(r('DELETE', '/v1/docs/42/comments'))).toBe(false);
    expect(c(r('DELETE', '/v1/users/7/avatar'))).toBe(true);
    expect(c(r('GET', '/v1/users/7/8/avatar'))).toBe(false);
    expect(c(r('GET', '/'))).toBe(true);
    expect(c(r('GET', '/v1/documents'))).toBe(false);
    expect(c(r('GET', '/v1/docsx'))).toBe(false);
    expect(c(r('GET', '/V1/docs'))).toBe(false);
  });

  it('never matches paths that a router could read differently', () => {
    for (const p of ['/v1/docs/../admin', '/v1/docs/./x', '/v1/docs/%2e%2e/admin', '/v1/docs/a%2Fb', '/v1/docs/a%5cb', '/v1/docs/%zz', '/v1//docs', '//v1/docs', 'v1/docs', '/v1/docs\\..\\admin', '/v1/docs#/../admin', '/v1/docs/a#b']) {
      expect([p, c(r('GET', p))]).toEqual([p, false]);
    }
  });

  it('never matches a path with a raw "#": routers route only what is before it', () => {
    const tenant = check([{ methods: ['GET'], path: '/v1/:tenant/docs/:id' }]);
    expect(tenant(r('GET', '/v1/acme/docs/1'))).toBe(true);
    expect(tenant(r('GET', '/v1/admin#/docs/1'))).toBe(false); // Express, Koa and Fastify route it to /v1/admin
    expect(tenant(r('GET', '/v1/acme/docs/1#'))).toBe(false);
    expect(pathSegments('/v1/acme/docs/%231')).toEqual(['v1', 'acme', 'docs', '#1']); // an encoded one is data
  });

  it('a path with a raw ";" matches only when what is before it matches too (Fastify\'s useSemicolonDelimiter)', () => {
    const tenant = check([{ methods: ['GET'], path: '/v1/:tenant/docs/:id' }, { methods: ['GET'], path: '/v1/files/**' }]);
    expect(tenant(r('GET', '/v1/admin;/docs/1'))).toBe(false); // Fastify routes it to /v1/admin
    expect(tenant(r('GET', '/v1/acme/docs/1;v=2'))).toBe(true);
    expect(tenant(r('GET', '/v1/files/a;b/c'))).toBe(true);
    expect(tenant(r('GET', '/v1;/files/a'))).toBe(false);
  });

  it('decodes percent-encoding before comparing', () => {
    expect(check([{ path: '/caf%C3%A9' }])(r('GET', '/café'.replace('é', '%c3%a9')))).toBe(true);
    expect(pathSegments('/a/%20b/')).toEqual(['a', ' b']);
  });

  it('an empty list allows no route', () => {
    expect(check([])(r('GET', '/'))).toBe(false);
  });

  it('refuses bad routes, naming them', () => {
    expect(() => check({})).toThrow('"restrictions.routes" must be an array');
    expect(() => check([{ path: 'v1' }])).toThrow('"restrictions.routes[0].path" must be a path pattern starting with "/"');
    expect(() => check([{ path: '/a/**/b' }])).toThrow('"restrictions.routes[0].path" must be made of');
    expect(() => check([{ path: '/a/x*' }])).toThrow('"restrictions.routes[0].path"');
    expect(() => check([{ path: '/a/..' }])).toThrow('"restrictions.routes[0].path"');
    expect(() => check([{ path: '/a', methods: ['GET', 'G E T'] }])).toThrow('"restrictions.routes[0].methods[1]" must be an HTTP method');
    expect(() => check([{ path: '/a', verbs: [] }])).toThrow('unknown field "verbs"');
  });
});
