'use strict';
/** Issue 5: the API-key pipeline with one rate limit and one quota against bare Express 5, in the same run. */
module.exports = {
  name: 'express-limits',
  goal: 0.9,
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [{ name: 'keyward express (key, scope, 1 rate limit, 1 quota)', script: 'servers/express-limits.js' }],
};
