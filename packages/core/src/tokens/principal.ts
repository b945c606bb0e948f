import type { JWTPayload } from 'jose' with { 'resolution-mode': 'import' };
import type { Principal } from '../model';
import { isValidScope } from '../scopes/expression';
import type { ClaimMapping } from './config';

const MAX_SCOPES = 256;
const MAX_ID = 256;

/**
 * A claim of the token: an own member of its payload, never one every object inherits (a claim mapped as `toString`
 * or `constructor` that the token lacks is absent, not `Object.prototype`'s function).
 */
function claim(payload: JWTPayload, name: string): unknown {
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

/** Scopes from the first present claim of `names`: a space-separated string or an array of strings. */
export function scopesFrom(payload: JWTPayload, names: readonly string[]): string[] {
  for (const name of names) {
    const v = claim(payload, name);
    if (v === undefined) continue;
    const list = typeof v === 'string' ? v.split(/\s+/) : Array.isArray(v) ? v : [];
    const out: string[] = [];
    for (const s of list) {
      if (isValidScope(s) && !out.includes(s)) out.push(s);
      if (out.length >= MAX_SCOPES) break;
    }
    return out;
  }
  return [];
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID ? v : undefined;
}

/**
 * Builds the principal of a verified token: `id` and `subject` are `sub`, `keyId` the `jti`, `issuer` the `iss` (jose
 * has checked it is the trusted issuer's), scopes from the mapped claims, owner and plan from their claims when mapped
 * (the owner defaults to the subject), metadata the selected claims. Returns `undefined` when the token has no usable
 * subject.
 */
export function tokenPrincipal(payload: JWTPayload, claims: ClaimMapping): Principal | undefined {
  const sub = text(payload.sub);
  if (!sub) return undefined;
  const jti = text(payload.jti);
  const owner = (claims.owner && text(claim(payload, claims.owner))) || sub;
  const plan = claims.plan ? text(claim(payload, claims.plan)) : undefined;
  const metadata: Record<string, unknown> = {};
  for (const name of claims.metadata) {
    const v = claim(payload, name);
    if (v !== undefined) metadata[name] = v;
  }
  return {
    type: 'token',
    id: sub,
    ...(jti ? { keyId: jti } : {}),
    owner,
    subject: sub,
    ...(typeof payload.iss === 'string' ? { issuer: payload.iss } : {}),
    scopes: scopesFrom(payload, claims.scopes),
    ...(plan ? { plan } : {}),
    metadata,
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {}),
  };
}
