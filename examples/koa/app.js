'use strict';
/**
 * The example app on Koa: public /health, and /v1 routes that need different scopes.
 * Exported as a factory so tests and the benchmark drive the very same app.
 */
const Koa = require('koa');
const { Router } = require('@koa/router');
const { apiKeyAuth, requireScopes } = require('@keyward/koa');

/**
 * @param {{ keyward?: import('@keyward/core').Keyward, options?: import('@keyward/core').KeywardOptions }} [opts]
 */
function createApp(opts = {}) {
  const auth = opts.keyward ? apiKeyAuth(opts.keyward) : apiKeyAuth({ publicPaths: ['/health'], ...(opts.options || {}) });
  const app = new Koa();
  const router = new Router();
  router.get('/health', (ctx) => { ctx.body = { ok: true }; });
  router.get('/v1/docs', requireScopes('docs:read'), (ctx) => { ctx.body = { docs: [{ id: 1, title: 'Hello' }], caller: ctx.state.auth.id }; });
  router.post('/v1/docs', requireScopes('docs:write'), (ctx) => { ctx.status = 201; ctx.body = { created: true }; });
  router.get('/v1/users', requireScopes('(users:read OR admin:*) AND docs:read'), (ctx) => { ctx.body = { users: [] }; });
  app.use(auth);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return { app, keyward: auth.keyward };
}

module.exports = { createApp };
