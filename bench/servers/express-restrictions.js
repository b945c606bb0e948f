'use strict';
// Issue 6: the API-key pipeline with an IP rule and a referrer rule on (per key), behind a trusted loopback proxy
// (the client address comes from X-Forwarded-For), plus a global IP deny list — on the same route and body as bare
// Express. Every request passes the rules, so the whole restriction stage runs each time. RESTRICTIONS=0 starts the
// same app without any rule, as a reference.
const express = require('express');
const { createKeyward } = require('@keyward/core');
const { apiKeyAuth } = require('@keyward/express');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');

(async () => {
  const on = process.env.RESTRICTIONS !== '0';
  const keyward = createKeyward({
    trustProxy: 'loopback',
    ...(on ? { restrictions: { ip: { deny: ['198.51.100.0/24', '192.0.2.0/24', '2001:db8:bad::/48'] } } } : {}),
  });
  const { key } = await keyward.keys.create({
    owner: 'bench',
    scopes: ['docs:read'],
    ...(on ? { restrictions: { ip: { allow: ['203.0.113.0/24', '2001:db8::/32'] }, referrers: { allow: ['*.example.com', 'https://app.example.org'] } } } : {}),
  });
  const app = express();
  app.disable('x-powered-by');
  app.get('/v1/docs', apiKeyAuth({ keyward, scopes: ['docs:read'] }), (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
  serve(app, { path: '/v1/docs', headers: { 'x-api-key': key, 'x-forwarded-for': '203.0.113.9', origin: 'https://app.example.com' } });
})();
