import express from 'express';
import { createServer } from 'node:http';
import { apiKeyAuth, endpoint } from '@keyward/express';
import { listen, routeBody, type AdapterUnderTest } from '../harness';

/**
 * The conformance app on Express 5. Each route gets its own `apiKeyAuth({ keyward, scopes, cost })`, so the whole
 * pipeline (scopes before limits) runs once per request, as in Koa and Nest.
 */
export const expressAdapter: AdapterUnderTest = {
  name: 'express',
  async start(spec) {
    const app = express();
    for (const e of spec.endpoints ?? []) app[e.method === 'GET' ? 'get' : 'post'](e.path, endpoint(e.handler));
    for (const r of spec.routes) {
      const auth = apiKeyAuth({ keyward: spec.keyward, ...(r.scopes !== undefined ? { scopes: r.scopes } : {}), ...(r.cost !== undefined ? { cost: r.cost } : {}) });
      const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'options';
      app[method](r.path, auth, (req, res) => {
        if (r.method === 'OPTIONS') return void res.status(204).end();
        const url = new URL(req.originalUrl, 'http://x');
        res.type(url.searchParams.get('size') ? 'text/plain' : 'application/json').send(routeBody(req.auth, url.searchParams));
      });
    }
    return listen(createServer(app));
  },
};
