'use strict';
// The example's pipeline: memory store, a scope check, an audit listener on.
const { createApp } = require('../../examples/express/app');
const { serve } = require('../lib/serve');

(async () => {
  const { app, keyward } = createApp({ options: { publicPaths: ['/health'] } });
  const seen = { events: 0 };
  keyward.on('*', () => { seen.events++; });
  const { key } = await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  serve(app, { path: '/v1/docs', headers: { 'x-api-key': key } });
})();
