import Koa from 'koa';
import Router from '@koa/router';
import { createServer } from 'node:http';
import { createSecureServer, createServer as createHttp2Server } from 'node:http2';
import { apiKeyAuth, endpoint } from '@keyward/koa';
import { listen, listenHttp2, routeBody, type AppSpec, type AdapterUnderTest } from '../harness';

/**
 * The conformance app on Koa 3 with @koa/router. Each route gets its own `apiKeyAuth({ keyward, scopes, cost })`,
 * so the whole pipeline runs once per request with the route's requirements, as in Express and Nest.
 */
export const koaAdapter: AdapterUnderTest = {
  name: 'koa',
  start: (spec) => listen(createServer(koaApp(spec).callback())),
};

/** The same Koa app on Node's HTTP/2 server (h2c), as `http2.createServer(app.callback())` serves it. */
export const koaHttp2Adapter: AdapterUnderTest = {
  name: 'koa on HTTP/2',
  start: (spec) => listenHttp2(createHttp2Server(koaApp(spec).callback())),
};

/**
 * The same Koa app on Node's HTTP/2 server with TLS and `allowHTTP1`, so one server answers both HTTP/2 and
 * HTTP/1.1 clients (`tls`: a certificate and its key in PEM).
 */
export function koaHttp2TlsAdapter(tls: { key: string; cert: string }): AdapterUnderTest {
  return {
    name: 'koa on HTTP/2 with TLS',
    start: (spec) => listenHttp2(createSecureServer({ ...tls, allowHTTP1: true }, koaApp(spec).callback())),
  };
}

/** The conformance app itself, for any of these servers. */
function koaApp(spec: AppSpec): Koa {
  const app = new Koa();
  app.silent = true;
  if (spec.userErrorHandler) {
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch {
        ctx.status = 500;
        ctx.body = { error: 'mine' };
      }
    });
  }
  const router = new Router();
  for (const e of spec.endpoints ?? []) router[e.method === 'ALL' ? 'all' : e.method === 'GET' ? 'get' : 'post'](e.path, endpoint(e.handler));
  for (const r of spec.routes) {
    const auth = apiKeyAuth({ keyward: spec.keyward, ...(r.scopes !== undefined ? { scopes: r.scopes } : {}), ...(r.cost !== undefined ? { cost: r.cost } : {}) });
    const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'options';
    router[method](r.path, auth, (ctx) => {
      if (r.fails) throw new Error('boom');
      if (r.method === 'OPTIONS') return void (ctx.status = 204);
      const url = new URL(ctx.originalUrl, 'http://x');
      ctx.type = url.searchParams.get('size') ? 'text/plain' : 'application/json';
      ctx.body = routeBody(ctx.state.auth, url.searchParams);
    });
  }
  app.use(router.routes());
  return app;
}
