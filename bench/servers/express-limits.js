'use strict';
// Issue 5: the API-key pipeline with one rate limit and one quota (memory counters, RateLimit headers on every
// response), on the same route and body as bare Express. The limits are high enough never to refuse during a run.
const express = require('express');
const { createKeyward } = require('@keyward/core');
const { apiKeyAuth } = require('@keyward/express');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');

(async () => {
  const keyward = createKeyward({
    limits: {
      rules: { burst: { points: 1_000_000_000, window: '10s' } },
      quotas: { monthly: { requests: 1_000_000_000, period: 'month' } },
    },
  });
  const { key } = await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  const app = express();
  app.disable('x-powered-by');
  app.get('/v1/docs', apiKeyAuth({ keyward, scopes: ['docs:read'] }), (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
  serve(app, { path: '/v1/docs', headers: { 'x-api-key': key } });
})();
