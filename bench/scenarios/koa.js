'use strict';
/** Issue 3: the Koa example's pipeline (memory store, scope check, audit listener) against bare Koa 3 + @koa/router. */
module.exports = {
  name: 'koa-api-key',
  goal: 0.8,
  baseline: { name: 'bare koa', script: 'servers/koa-bare.js' },
  subjects: [
    { name: 'floor: auth that does nothing', script: 'servers/koa-floor.js', goal: undefined },
    // The least any API-key check costs (hash, look-up, scope; no audit): what no implementation can go below.
    { name: 'least key check, hand-written', script: 'servers/koa-least.js', goal: undefined },
    { name: 'keyward koa (memory, scope, audit)', script: 'servers/koa-keyward.js' },
  ],
};
