'use strict';
// The floor for Koa: the keyward example's app shape with authentication that does nothing — one middleware setting
// `ctx.state.auth` and one route-level middleware calling `next()`, as apiKeyAuth() and requireScopes() sit.
const Koa = require('koa');
const { Router } = require('@koa/router');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const principal = Object.freeze({ id: STAND_IN_CALLER });
const pass = (_ctx, next) => next();
const app = new Koa();
const router = new Router();
router.get('/health', (ctx) => { ctx.body = { ok: true }; });
router.get('/v1/docs', pass, (ctx) => { ctx.body = { docs: [{ id: 1, title: 'Hello' }], caller: ctx.state.auth.id }; });
router.post('/v1/docs', pass, (ctx) => { ctx.status = 201; ctx.body = { created: true }; });
router.get('/v1/users', pass, (ctx) => { ctx.body = { users: [] }; });
app.use((ctx, next) => { ctx.state.auth = principal; return next(); });
app.use(router.routes());
app.use(router.allowedMethods());
serve(app.callback(), { path: '/v1/docs' });
