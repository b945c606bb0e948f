'use strict';
/**
 * Issue 4: the JWT pipeline (HS256 and ES256) against bare Express 5 and against a plain jose jwtVerify middleware,
 * in the same run. Goals: with the verified-token cache ≥ 0.90× bare Express; without it, no slower than plain jose:
 * the "÷ plain jose" rows, each round's keyward figure over the same round's jose figure.
 */
const subject = (name, script, env, goal, versus) => ({ name, script, env, ...(goal !== undefined ? { goal } : {}), ...(versus ? { versus: { target: versus, goal: 1 } } : {}) });

module.exports = {
  name: 'express-jwt',
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [
    subject('plain jose jwtVerify, HS256', 'servers/jwt-jose.js', { JWT_ALG: 'HS256' }),
    subject('keyward JWT, HS256, no cache', 'servers/jwt-keyward.js', { JWT_ALG: 'HS256', JWT_CACHE: '0' }, undefined, 'plain jose jwtVerify, HS256'),
    subject('keyward JWT, HS256, cache', 'servers/jwt-keyward.js', { JWT_ALG: 'HS256', JWT_CACHE: '1' }, 0.9),
    subject('plain jose jwtVerify, ES256', 'servers/jwt-jose.js', { JWT_ALG: 'ES256' }),
    subject('keyward JWT, ES256, no cache', 'servers/jwt-keyward.js', { JWT_ALG: 'ES256', JWT_CACHE: '0' }, undefined, 'plain jose jwtVerify, ES256'),
    subject('keyward JWT, ES256, cache', 'servers/jwt-keyward.js', { JWT_ALG: 'ES256', JWT_CACHE: '1' }, 0.9),
  ],
};
