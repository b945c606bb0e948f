'use strict';
/**
 * The example app: public /health, and /v1 routes that need different scopes.
 * Exported as a factory so tests and the benchmark drive the very same app.
 */
const express = require('express');
const { apiKeyAuth, requireScopes } = require('@keyward/express');

/**
 * @param {{ keyward?: import('@keyward/core').Keyward, options?: import('@keyward/core').KeywardOptions }} [opts]
 */
function createApp(opts = {}) {
  const auth = opts.keyward ? apiKeyAuth(opts.keyward) : apiKeyAuth({ publicPaths: ['/health'], ...(opts.options || {}) });
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => res.json({ ok: true }));
  app.use(auth);
  app.get('/v1/docs', requireScopes('docs:read'), (req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: req.auth.id }));
  app.post('/v1/docs', requireScopes('docs:write'), (_req, res) => res.status(201).json({ created: true }));
  app.get('/v1/users', requireScopes('(users:read OR admin:*) AND docs:read'), (_req, res) => res.json({ users: [] }));
  return { app, keyward: auth.keyward };
}

module.exports = { createApp };
