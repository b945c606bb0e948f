'use strict';
// Bare Koa 3 with @koa/router: the keyward example's app without keyward — the same routes in the same order and
// the same body, no authentication, no scope checks.
const Koa = require('koa');
const { Router } = require('@koa/router');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const app = new Koa();
const router = new Router();
router.get('/health', (ctx) => { ctx.body = { ok: true }; });
router.get('/v1/docs', (ctx) => { ctx.body = { docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }; });
router.post('/v1/docs', (ctx) => { ctx.status = 201; ctx.body = { created: true }; });
router.get('/v1/users', (ctx) => { ctx.body = { users: [] }; });
app.use(router.routes());
app.use(router.allowedMethods());
serve(app.callback(), { path: '/v1/docs' });
