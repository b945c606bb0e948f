'use strict';
// Bare Koa 3 with @koa/router: the same route and body as the keyward example, no authentication.
const Koa = require('koa');
const { Router } = require('@koa/router');
const { serve } = require('../lib/serve');
const app = new Koa();
const router = new Router();
router.get('/v1/docs', (ctx) => { ctx.body = { docs: [{ id: 1, title: 'Hello' }], caller: 'anonymous' }; });
app.use(router.routes());
app.use(router.allowedMethods());
serve(app.callback(), { path: '/v1/docs' });
