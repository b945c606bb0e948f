/** Header names whose values are credentials and are always redacted. */
export const SENSITIVE_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'];

/** Query parameter names whose values are redacted. */
export const SENSITIVE_QUERY_PARAMS: readonly string[] = [
  'api_key', 'apikey', 'api-key', 'key', 'token', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'secret', 'password', 'sig', 'signature',
];

/** The placeholder that replaces a redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * Returns a copy of `headers` with credential headers (and any in `extra`) replaced by `[REDACTED]`.
 * Names are matched case-insensitively; the input is not modified.
 *
 * @example
 * ```ts
 * logger.info({ headers: redactHeaders(req.headers, ['x-my-key']) });
 * ```
 */
export function redactHeaders<T extends Record<string, unknown>>(headers: T, extra: readonly string[] = []): T {
  const names = new Set([...SENSITIVE_HEADERS, ...extra.map((h) => h.toLowerCase())]);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = names.has(name.toLowerCase()) && value !== undefined ? REDACTED : value;
  }
  return out as T;
}

/**
 * Returns `url` (a path with an optional query string, or a query string alone) with the values of credential-like
 * parameters (and any in `extra`) replaced by `[REDACTED]`.
 *
 * @example
 * ```ts
 * redactQuery('/v1/x?api_key=kw_live_abc&page=2') // '/v1/x?api_key=[REDACTED]&page=2'
 * ```
 */
export function redactQuery(url: string, extra: readonly string[] = []): string {
  const q = url.indexOf('?');
  if (q === -1 && url.startsWith('/')) return url;
  const head = q === -1 ? '' : url.slice(0, q + 1);
  const query = q === -1 ? url : url.slice(q + 1);
  if (query === '') return url;
  const names = new Set([...SENSITIVE_QUERY_PARAMS, ...extra.map((h) => h.toLowerCase())]);
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      // keep the raw name
    }
    return names.has(name.toLowerCase()) && eq !== -1 ? `${rawName}=${REDACTED}` : part;
  });
  return head + parts.join('&');
}
