import { SignJWT } from 'jose';
import type { KeyObject, webcrypto } from 'node:crypto';
import { KeywardError } from '../errors';
import type { EventBus } from '../events/bus';
import type { Clock } from '../util/clock';
import { parseDuration } from '../util/duration';
import { randomBase62 } from '../util/base62';
import { isValidScope } from '../scopes/expression';
import type { SigningConfig, SigningKey } from './config';
import { fieldsOf, refuseUnknownInput } from '../config/fields';
import { checkObject, checkText, holdsCredential } from '../keys/validate';

/** What `kw.tokens.issue()` takes. */
export interface IssueTokenInput {
  /** The `sub` claim: who the token speaks for. Required. */
  subject: string;
  /** Scopes granted, sent as the space-separated `scope` claim. Default none. */
  scopes?: readonly string[];
  /** Lifetime (ms or `'15m'`), at most `signing.maxTtl`. Default `signing.ttl`. */
  ttl?: number | string;
  /** The `aud` claim. Default `signing.audience`. */
  audience?: string | readonly string[];
  /**
   * Further claims (JSON). Registered claims (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`), the claims scopes are
   * read from (`scope`, `scp`, `permissions`, or `signing.claims.scopes`) and `client_id` (it makes a token act as an
   * API key: only the exchange sets it) cannot be set here.
   */
  claims?: Record<string, unknown>;
}

const ISSUE_FIELDS = fieldsOf<IssueTokenInput>({ subject: true, scopes: true, ttl: true, audience: true, claims: true });

/** A freshly signed token. Hand `token` to the client; keep `jti` to revoke it. */
export interface IssuedToken {
  /** The compact JWT. Never logged by keyward. */
  readonly token: string;
  /** The token's id (`jti`), for {@link TokenApi.revoke}. */
  readonly jti: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
  /** Lifetime in seconds (`expires_in`). */
  readonly expiresIn: number;
  /** The granted scopes, space-separated. */
  readonly scope: string;
}

/** Internal extras of the exchange: cap the expiry and say who asked. */
export interface IssueContext {
  readonly notAfter?: number;
  readonly keyId?: string;
  readonly owner?: string;
  readonly grant?: string;
}

type CryptoKey = webcrypto.CryptoKey;

const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope']);

/** Issues tokens with the first signing key. */
export type TokenIssuer = (input: IssueTokenInput, context?: IssueContext) => Promise<IssuedToken>;

/**
 * Builds the issuer: checks the input (a mistake is a `TypeError`), signs with the first signing key (`kid` in the
 * header, `typ` from the options) and emits `token.issued` — with the `jti`, never the token.
 */
export function createIssuer(signing: SigningConfig, clock: Clock, events: EventBus, maxTokenLength: number): TokenIssuer {
  const hmacKeys = new Map<SigningKey, Promise<CryptoKey>>();
  const keyFor = (k: SigningKey): Promise<CryptoKey> | KeyObject => {
    if (k.kind !== 'secret') return k.key;
    let p = hmacKeys.get(k);
    if (!p) {
      p = crypto.subtle.importKey('raw', k.key.export(), { name: 'HMAC', hash: `SHA-${k.alg.slice(2)}` }, false, ['sign']);
      hmacKeys.set(k, p);
    }
    return p;
  };

  return async function issue(input, context = {}) {
    refuseUnknownInput(input, ISSUE_FIELDS, 'tokens.issue()');
    const { subject } = input;
    // A key or a token as the subject would be readable in the token and logged as the principal's `subject`.
    checkText(subject, 'subject');
    const scopes = input.scopes ?? [];
    if (!Array.isArray(scopes) || !scopes.every(isValidScope)) throw new TypeError('keyward: "scopes" must be an array of valid scope names');
    if (scopes.some(holdsCredential)) throw new TypeError('keyward: "scopes" holds a key or a token (not shown): keyward never stores a credential');
    const ttlMs = input.ttl === undefined ? signing.ttlMs : parseDuration(input.ttl, 'ttl');
    if (ttlMs < 1000 || ttlMs > signing.maxTtlMs) throw new TypeError('keyward: "ttl" must be at least 1s and at most tokens.signing.maxTtl');
    let audience = signing.audience;
    if (input.audience !== undefined) {
      const list = typeof input.audience === 'string' ? [input.audience] : input.audience;
      if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a.length > 0)) throw new TypeError('keyward: "audience" must be a string or a non-empty array of strings');
      audience = list;
    }
    let extra: Record<string, unknown> = {};
    if (input.claims !== undefined) {
      if (typeof input.claims !== 'object' || input.claims === null || Array.isArray(input.claims)) throw new TypeError('keyward: "claims" must be a plain object');
      extra = checkObject(input.claims, 'claims'); // a copy; no credential in it (a token's claims are readable by whoever holds it)
      // Checked on the copy, which is what the token carries (a `toJSON` method would otherwise slip names past).
      for (const name of Object.keys(extra)) {
        if (RESERVED.has(name)) throw new TypeError(`keyward: "claims" cannot set the registered claim "${name}"`);
        // Scopes come from `scopes` only, checked there: a scope claim here would grant scopes nobody checked.
        if (signing.scopeClaims.includes(name)) throw new TypeError(`keyward: "claims" cannot set "${name}", a claim scopes are read from; give them in "scopes"`);
        // A `client_id` makes the token act as that API key (its standing, plan, limits, restrictions and scopes): only
        // the client-credentials exchange, which authenticated the key, may set it.
        if (name === 'client_id' && (context.keyId === undefined || extra[name] !== context.keyId)) {
          throw new TypeError('keyward: "claims" cannot set "client_id": it makes the token act as that API key, which only the client-credentials exchange (kw.tokens.endpoint()) grants');
        }
      }
    }
    const key = signing.keys[0]!;
    const iat = Math.floor(clock() / 1000);
    let exp = iat + Math.ceil(ttlMs / 1000);
    if (context.notAfter !== undefined) exp = Math.min(exp, Math.floor(context.notAfter / 1000));
    if (exp <= iat) throw new KeywardError('TOKEN_ISSUE_FAILED', 'the credential the token would be issued for expires within a second');
    const jti = randomBase62(24);
    const scope = [...new Set(scopes)].join(' ');
    let jwt = new SignJWT({ ...extra, ...(scope ? { scope } : {}) })
      .setProtectedHeader({ alg: key.alg, typ: signing.typ, ...(key.kid !== undefined ? { kid: key.kid } : {}) })
      .setIssuer(signing.issuer)
      .setSubject(subject)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti);
    if (audience) jwt = jwt.setAudience(audience.length === 1 ? audience[0]! : [...audience]);
    let token: string;
    try {
      token = await jwt.sign(await keyFor(key));
    } catch (error) {
      throw new KeywardError('TOKEN_ISSUE_FAILED', 'the token could not be signed', { cause: error });
    }
    if (token.length > maxTokenLength) throw new KeywardError('TOKEN_TOO_LARGE', `the token would be ${token.length} characters, over tokens.maxTokenLength; send fewer claims`);
    events.emit({
      type: 'token.issued',
      principalType: 'token',
      subject,
      ...(context.keyId ? { keyId: context.keyId } : {}),
      ...(context.owner ? { owner: context.owner } : {}),
      data: { jti, scopes: scope ? scope.split(' ') : [], expiresAt: new Date(exp * 1000).toISOString(), ...(key.kid !== undefined ? { kid: key.kid } : {}), ...(context.grant ? { grant: context.grant } : {}) },
    });
    return { token, jti, expiresAt: exp * 1000, expiresIn: exp - iat, scope };
  };
}
