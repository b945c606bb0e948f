'use strict';
// The peer: a plain jose jwtVerify middleware on Express 5 (the usual hand-written one), same issuer and checks.
// Env: JWT_ALG=HS256|ES256.
const express = require('express');
const { jwtVerify } = require('jose');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const { issuer, signToken } = require('../lib/jwt-fixture');

(async () => {
  const alg = process.env.JWT_ALG || 'HS256';
  const cfg = issuer(alg);
  const key = alg === 'HS256' ? new TextEncoder().encode(cfg.secret) : require('node:crypto').createPublicKey(cfg.publicKey);
  const app = express();
  app.disable('x-powered-by');
  app.use(async (req, res, next) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    if (!m) return res.status(401).json({ error: 'unauthorized' });
    try {
      const { payload } = await jwtVerify(m[1], key, { algorithms: [alg], issuer: cfg.issuer, audience: cfg.audience });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (!scopes.includes('docs:read')) return res.status(403).json({ error: 'insufficient_scope' });
      req.user = payload;
      next();
    } catch {
      res.status(401).json({ error: 'invalid_token' });
    }
  });
  app.get('/v1/docs', (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
  serve(app, { path: '/v1/docs', headers: { authorization: `Bearer ${await signToken(alg)}` } });
})();
