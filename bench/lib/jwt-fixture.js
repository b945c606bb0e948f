'use strict';
/** Bench-only issuer fixture for the JWT scenario: a fixed HS256 secret, an ES256 key pair made per process. */
const { generateKeyPairSync } = require('node:crypto');
const { SignJWT } = require('jose');

const SECRET = 'bench-only-hmac-secret-not-for-production-use-0123456789';
const ISSUER = 'https://idp.bench.local/';
const AUDIENCE = 'bench-api';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** The trusted-issuer options for keyward (and the same values for the jose peer). */
function issuer(alg) {
  return alg === 'HS256'
    ? { issuer: ISSUER, audience: AUDIENCE, secret: SECRET, algorithms: ['HS256'] }
    : { issuer: ISSUER, audience: AUDIENCE, publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }), algorithms: ['ES256'] };
}

/** A one-hour token with `docs:read`, signed for `alg`. */
function signToken(alg) {
  return new SignJWT({ scope: 'docs:read users:view', jti: 'bench-1' })
    .setProtectedHeader({ alg })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(alg === 'HS256' ? new TextEncoder().encode(SECRET) : ec.privateKey);
}

module.exports = { issuer, signToken };
