import express from 'express';
import express4 from 'express4';
import { createServer } from 'node:http';
import { apiKeyAuth, endpoint } from '@keyward/express';
import { listen, routeBody, type AdapterUnderTest } from '../harness';

/**
 * The conformance app on Express, built by `createApp` (Express 5's or Express 4's `express()`). Each route gets its
 * own `apiKeyAuth({ keyward, scopes, cost })`, so the whole pipeline (scopes before limits) runs once per request,
 * as in Koa and Nest.
 */
function expressAdapterOn(name: string, createApp: typeof express): AdapterUnderTest {
  return {
    name,
    async start(spec) {
      const app = createApp();
      for (const e of spec.endpoints ?? []) app[e.method === 'ALL' ? 'all' : e.method === 'GET' ? 'get' : 'post'](e.path, endpoint(e.handler));
      for (const r of spec.routes) {
        const auth = apiKeyAuth({ keyward: spec.keyward, ...(r.scopes !== undefined ? { scopes: r.scopes } : {}), ...(r.cost !== undefined ? { cost: r.cost } : {}) });
        const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'options';
        app[method](r.path, auth, (req, res) => {
          if (r.fails) throw new Error('boom');
          if (r.method === 'OPTIONS') return void res.status(204).end();
          const url = new URL(req.originalUrl, 'http://x');
          res.type(url.searchParams.get('size') ? 'text/plain' : 'application/json').send(routeBody(req.auth, url.searchParams));
        });
      }
      if (spec.userErrorHandler) app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(500).json({ error: 'mine' }));
      return listen(createServer(app));
    },
  };
}

/** The conformance app on Express 5. */
export const expressAdapter = expressAdapterOn('express', express);

/** The same app on Express 4 (the `express4` alias of `express@4`), which `@keyward/express` also supports. */
export const express4Adapter = expressAdapterOn('express4', express4);
