'use strict';
/** Issue 3: the Nest example's pipeline (KeywardGuard, @Scopes, memory store, audit listener) against bare NestJS 11. */
module.exports = {
  name: 'nest-api-key',
  goal: 0.9,
  baseline: { name: 'bare nest', script: 'servers/nest-bare.js' },
  subjects: [
    { name: 'floor: auth that does nothing', script: 'servers/nest-floor.js', goal: undefined },
    { name: 'keyward nest (memory, scope, audit)', script: 'servers/nest-keyward.js' },
  ],
};
