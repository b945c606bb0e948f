'use strict';
// keyward's JWT pipeline on Express 5: a trusted issuer (HS256 secret or ES256 public key), a scope check, the
// verified-token cache on or off. Env: JWT_ALG=HS256|ES256, JWT_CACHE=1|0.
const express = require('express');
const { createKeyward } = require('@keyward/core');
const { apiKeyAuth, requireScopes } = require('@keyward/express');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const { issuer, signToken } = require('../lib/jwt-fixture');

(async () => {
  const alg = process.env.JWT_ALG || 'HS256';
  const cache = process.env.JWT_CACHE !== '0';
  const kw = createKeyward({ tokens: { issuers: [issuer(alg)], ...(cache ? {} : { cache: false }) } });
  const app = express();
  app.disable('x-powered-by');
  app.use(apiKeyAuth(kw));
  app.get('/v1/docs', requireScopes('docs:read'), (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
  serve(app, { path: '/v1/docs', headers: { authorization: `Bearer ${await signToken(alg)}` } });
})();
