'use strict';
/**
 * Issue 6: the API-key pipeline with an IP rule and a referrer rule on (client address from X-Forwarded-For through
 * a trusted loopback proxy, a global IP deny list too) against bare Express 5, in the same run.
 */
module.exports = {
  name: 'express-restrictions',
  goal: 0.9,
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [
    { name: 'keyward express, no restriction (reference)', script: 'servers/express-restrictions.js', env: { RESTRICTIONS: '0' } },
    { name: 'keyward express + IP rule + referrer rule', script: 'servers/express-restrictions.js', goal: 0.9 },
  ],
};
