import { createLocalJWKSet, createRemoteJWKSet, customFetch } from 'jose';
import type { JWTVerifyGetKey, JSONWebKeySet } from 'jose' with { 'resolution-mode': 'import' };
import type { Clock } from '../util/clock';

/** A remote key set's settings, parsed (`tokens.issuers[].jwksUri` and `jwksCache`). Internal. */
export interface RemoteJwksConfig {
  readonly url: URL;
  /** How long a fetched set is used before it is fetched again (jose's `cacheMaxAge`). */
  readonly cacheMaxAgeMs: number;
  /** Least time between two fetches for an unknown `kid` (jose's), and the wait after a failed fetch (keyward's). */
  readonly cooldownMs: number;
  /** The whole fetch, body included (jose's `timeoutDuration`). */
  readonly timeoutMs: number;
  /** Largest body read, in bytes. */
  readonly maxBytes: number;
  /** How long past `cacheMaxAgeMs` the last fetched set still verifies while the set cannot be fetched. */
  readonly staleIfErrorMs: number;
}

/** What a remote key set tells its owner: each failed fetch, once (not each request that waited for it). */
export interface RemoteKeySetHooks {
  readonly clock: Clock;
  onUnavailable(error: unknown): void;
}

/**
 * True when jose could not get a remote key set: no answer in time, no connection, a status other than 200, a body
 * that is not JSON, or JSON that is not a key set (`{"keys": …}` missing or not an array: ERR_JWKS_INVALID, which only
 * a fetched set can raise, local sets being checked at start-up).
 */
export function jwksUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JWKS_INVALID' || code === JWKS_TOO_LARGE || code === JWKS_CUT_OFF) return true;
  if (code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set/.test((error as Error).message)) return true;
  return error instanceof TypeError && /fetch/i.test(error.message);
}

const JWKS_TOO_LARGE = 'KEYWARD_JWKS_TOO_LARGE';
const JWKS_CUT_OFF = 'KEYWARD_JWKS_CUT_OFF';

/**
 * `fetch` for jose's remote key set that reads at most `maxBytes` of a 200 answer's body (decoded, so a compressed bomb
 * is bounded too): past it — or at once when `Content-Length` says so — the body is cancelled, which drops the
 * connection, and the fetch fails. jose's own `fetch` buffered any body for as long as the timeout allowed. Its
 * timeout signal still covers the body: a read it aborts rejects as a timeout, as jose's would.
 */
function boundedFetch(maxBytes: number) {
  const tooLarge = () => Object.assign(new Error(`the JSON Web Key Set is larger than ${maxBytes} bytes`), { code: JWKS_TOO_LARGE });
  return async (url: string, init: RequestInit): Promise<Response> => {
    const response = await fetch(url, init);
    if (response.status !== 200 || response.body === null) {
      void response.body?.cancel().catch(() => {}); // jose refuses it without reading: nothing is kept
      return response;
    }
    if (Number(response.headers.get('content-length')) > maxBytes) {
      void response.body.cancel().catch(() => {});
      throw tooLarge();
    }
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (error) {
        // The timeout's abort goes on as it is (jose makes it ERR_JWKS_TIMEOUT); a connection dropped mid-body is a
        // failed fetch too, as it was when jose read the body (undici's TypeError "terminated" is not one jose knows).
        if (init.signal?.aborted) throw error;
        throw Object.assign(new Error('the JSON Web Key Set response was cut off', { cause: error }), { code: JWKS_CUT_OFF });
      }
      const { done, value } = read;
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        void reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
    return new Response(Buffer.concat(chunks), { status: 200, headers: response.headers });
  };
}

/**
 * jose's remote key set (its cache, `kid`-miss refetch and cooldown), made to survive the identity provider's outages:
 *
 * - **A failed fetch is not retried for `cooldownMs`.** jose counts its cooldown from the last fetch that worked, so
 *   while the provider was down every request fetched again (each one waiting up to the timeout when it hung), and a
 *   token with a made-up `kid` could make keyward call the provider on every request.
 * - **The last set fetched keeps verifying for `staleIfErrorMs` past its `cacheMaxAgeMs`** while the set cannot be
 *   fetched (0: not at all), so a provider's outage of a few minutes no longer refuses every token of keys that were
 *   valid moments ago. A key the provider removed meanwhile is seen at the first fetch that works.
 *
 * Past both, a token is refused as before (jose's error), quickly: without a fetch until the cooldown is over.
 */
export function remoteKeySet(config: RemoteJwksConfig, hooks: RemoteKeySetHooks): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(config.url, { cacheMaxAge: config.cacheMaxAgeMs, cooldownDuration: config.cooldownMs, timeoutDuration: config.timeoutMs, [customFetch]: boundedFetch(config.maxBytes) });
  const { clock } = hooks;
  /** The set of the last fetch that worked, when it worked (keyward's clock), and its local verifier (built when needed). */
  let last: { jwks: JSONWebKeySet; at: number; local?: JWTVerifyGetKey } | undefined;
  /** When the last fetch failed, and its error (thrown again, without a fetch, until the cooldown is over). */
  let failedAt = -Infinity;
  let failure: unknown;

  const stale = (now: number): JWTVerifyGetKey | undefined => {
    if (last === undefined || now >= last.at + config.cacheMaxAgeMs + config.staleIfErrorMs) return undefined;
    return (last.local ??= createLocalJWKSet(last.jwks));
  };

  return async (...[header, token]: Parameters<JWTVerifyGetKey>) => {
    const now = clock();
    if (now < failedAt + config.cooldownMs) {
      const local = stale(now);
      if (local) return local(header, token);
      throw failure;
    }
    const fresh = remote.fresh;
    const cooling = remote.coolingDown;
    try {
      const key = await remote(header, token);
      // jose fetched during this call when its set was not fresh (it fetches first), or when it started cooling down.
      if (!fresh || (!cooling && remote.coolingDown)) last = { jwks: remote.jwks()!, at: clock() };
      return key;
    } catch (error) {
      if (!jwksUnavailable(error)) throw error;
      const at = clock();
      // Requests that waited for the same fetch all fail with it: it is reported once.
      if (!(at < failedAt + config.cooldownMs)) hooks.onUnavailable(error);
      failedAt = at;
      failure = error;
      const local = stale(at);
      if (local) return local(header, token);
      throw error;
    }
  };
}
