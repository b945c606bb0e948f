'use strict';
// The least an API-key check can do on Koa, hand-written on the example's app shape: read one header, SHA-256 it
// (one-shot), one Map look-up, the record's status and expiry, the route's scope from ctx.state. No extraction rules,
// no audit events, no completion tracking, no request id. See express-least.js.
const Koa = require('koa');
const { Router } = require('@koa/router');
const { serve } = require('../lib/serve');
const { KEY, lookUp } = require('../lib/least-key');

const refuse = (ctx, status) => { ctx.status = status; };

const app = new Koa();
const router = new Router();
const needs = (scope) => (ctx, next) => (ctx.state.auth.scopes.has(scope) ? next() : refuse(ctx, 403));
router.get('/health', (ctx) => { ctx.body = { ok: true }; });
router.get('/v1/docs', needs('docs:read'), (ctx) => { ctx.body = { docs: [{ id: 1, title: 'Hello' }], caller: ctx.state.auth.id }; });
app.use((ctx, next) => {
  const r = lookUp(ctx.req.headers['x-api-key']);
  if (r === undefined) return refuse(ctx, 401);
  ctx.state.auth = r;
  return next();
});
app.use(router.routes());
app.use(router.allowedMethods());
serve(app.callback(), { path: '/v1/docs', headers: { 'x-api-key': KEY } });
