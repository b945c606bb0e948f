import Koa from 'koa';
import Router from '@koa/router';
import { createServer } from 'node:http';
import { apiKeyAuth, endpoint } from '@keyward/koa';
import { listen, routeBody, type AdapterUnderTest } from '../harness';

/**
 * The conformance app on Koa 3 with @koa/router. Each route gets its own `apiKeyAuth({ keyward, scopes, cost })`,
 * so the whole pipeline runs once per request with the route's requirements, as in Express and Nest.
 */
export const koaAdapter: AdapterUnderTest = {
  name: 'koa',
  async start(spec) {
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    for (const e of spec.endpoints ?? []) router[e.method === 'GET' ? 'get' : 'post'](e.path, endpoint(e.handler));
    for (const r of spec.routes) {
      const auth = apiKeyAuth({ keyward: spec.keyward, ...(r.scopes !== undefined ? { scopes: r.scopes } : {}), ...(r.cost !== undefined ? { cost: r.cost } : {}) });
      const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'options';
      router[method](r.path, auth, (ctx) => {
        if (r.method === 'OPTIONS') return void (ctx.status = 204);
        const url = new URL(ctx.originalUrl, 'http://x');
        ctx.type = url.searchParams.get('size') ? 'text/plain' : 'application/json';
        ctx.body = routeBody(ctx.state.auth, url.searchParams);
      });
    }
    app.use(router.routes());
    return listen(createServer(app.callback()));
  },
};
