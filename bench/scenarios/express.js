'use strict';
/** Issue 2: the example's pipeline (memory store, scope check, audit listener) against bare Express 5. */
module.exports = {
  name: 'express-api-key',
  goal: 0.9,
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [
    { name: 'floor: auth that does nothing', script: 'servers/express-floor.js', goal: undefined },
    // The least any API-key check costs (hash, look-up, scope; no audit): what no implementation can go below.
    { name: 'least key check, hand-written', script: 'servers/express-least.js', goal: undefined },
    { name: 'keyward express (memory, scope, audit)', script: 'servers/express-keyward.js' },
  ],
};
