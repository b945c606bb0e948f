'use strict';
/**
 * The least an API-key check can do, shared by `servers/express-least.js` and `servers/koa-least.js` so both do exactly
 * the same work: one key of keyward's length (47 characters), stored by its SHA-256; `lookUp(presented)` hashes the
 * presented value (one-shot), makes one `Map` look-up and checks the record's status and expiry. No extraction rules,
 * no request id, no events.
 */
const crypto = require('node:crypto');
const { STAND_IN_CALLER } = require('./caller');

const KEY = `kw_live_${crypto.randomBytes(29).toString('base64url')}`;
const record = Object.freeze({ id: STAND_IN_CALLER, owner: 'bench', scopes: new Set(['docs:read']), status: 'active', expiresAt: undefined });
const byHash = new Map([[crypto.hash('sha256', KEY, 'latin1'), record]]);

/** The record `presented` authenticates as, or `undefined`. */
function lookUp(presented) {
  if (typeof presented !== 'string') return undefined;
  const r = byHash.get(crypto.hash('sha256', presented, 'latin1'));
  return r === undefined || r.status !== 'active' || (r.expiresAt !== undefined && r.expiresAt <= Date.now()) ? undefined : r;
}

module.exports = { KEY, lookUp };
