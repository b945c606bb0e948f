'use strict';
// The Koa example's pipeline: memory store, a scope check, an audit listener on.
const { createApp } = require('../../examples/koa/app');
const { serve } = require('../lib/serve');

(async () => {
  const { app, keyward } = createApp({ options: { publicPaths: ['/health'] } });
  let _seen = 0;
  keyward.on('*', () => { _seen++; });
  const { key } = await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  serve(app.callback(), { path: '/v1/docs', headers: { 'x-api-key': key } });
})();
