'use strict';
// The Nest example's pipeline (KeywardGuard as APP_GUARD, @Scopes): memory store, a scope check, an audit listener on.
// Needs the example built (`npm run build` builds examples/nest/dist).
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { createKeyward } = require('@keyward/core');
const { appModule } = require('../../examples/nest/dist/app.module');
const { serve } = require('../lib/serve');

(async () => {
  const keyward = createKeyward();
  let _seen = 0;
  keyward.on('*', () => { _seen++; });
  const app = await NestFactory.create(appModule(keyward), { logger: false });
  await app.init();
  const { key } = await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  serve(app.getHttpServer(), { path: '/v1/docs', headers: { 'x-api-key': key } });
})();
