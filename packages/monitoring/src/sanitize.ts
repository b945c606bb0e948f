import { REDACTED, SENSITIVE_HEADERS, SENSITIVE_QUERY_PARAMS, SENSITIVE_URL_PARAMS, fieldsOf, isCredentialName, looksLikeKeywardKey, optionObject, redactHeaders, redactQuery, type Keyward } from '@keyward/core';

/** Extra names to redact, on top of keyward's credential headers and query parameters. */
export interface RedactOptions {
  /** More header names whose values are redacted. */
  headers?: readonly string[];
  /** More query parameter names whose values are redacted. */
  query?: readonly string[];
  /** More object keys (anywhere) whose values are redacted. */
  keys?: readonly string[];
}

const REDACT_FIELDS = fieldsOf<RedactOptions>({ headers: true, query: true, keys: true });

/**
 * Checks a `redact` option: absent, or an object with only the fields of {@link RedactOptions}, each an array of
 * non-empty strings. A misspelt field (`header` for `headers`) would let the values it names reach the log, and a
 * field of another type (`headers: 'x-my-key'`) would make every line fail to be written, so both are mistakes. The
 * sinks call it at start-up.
 *
 * @throws TypeError naming the option and the unknown or mistyped field
 */
export function checkRedact(redact: unknown): void {
  if (redact === undefined) return;
  const fields = optionObject(redact, 'redact', REDACT_FIELDS);
  for (const field of ['headers', 'query', 'keys'] as const) {
    const names = fields[field];
    if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== ''))) throw new TypeError(`keyward: option "redact.${field}" must be an array of names`);
  }
}

/** What a sink is given as `keyward`: events come from `on`; the credential header and parameter from `config`, when it has one. */
export type SinkSource = Pick<Keyward, 'on'> & { readonly config?: Pick<Keyward['config'], 'extraction'> };

/**
 * The sink's `redact` option with the header and query parameter the instance reads credentials from (its `header`
 * and `queryParam` options, e.g. `X-Custom-Key`) added: a sink subscribed to an instance redacts them without being
 * told twice. Called once, at start-up.
 */
export function redactWithSource(redact: RedactOptions | undefined, keyward: SinkSource | undefined): RedactOptions | undefined {
  const extraction = keyward?.config?.extraction;
  if (!extraction) return redact;
  const header = typeof extraction.header === 'string' ? [extraction.header] : [];
  const query = typeof extraction.queryParam === 'string' ? [extraction.queryParam] : [];
  if (header.length === 0 && query.length === 0) return redact;
  return { ...redact, headers: [...(redact?.headers ?? []), ...header], query: [...(redact?.query ?? []), ...query] };
}

/** Field names whose values are secrets: `*password`, `pass` (`auth: { user, pass }`), `*token`, `secretAccessKey`, `signingKey`, `cookies` (cookie-parser's `req.cookies`), a session id (`sessionID`, `connect.sid`)… */
const SECRET_KEY = /(secret|password|passwd|pwd|passphrase|passcode|(?:^|[._-])pass|token|authorization|api[-_]?key|cookies?|credential|(?:access|secret|private|signing|encryption|master|hmac|auth|client|session|shared)[-_]?key|signature|pepper|hash|session[-_]?id|phpsessid|(?:^|[._-])sid)$/i;
const URL_KEYS = new Set(['path', 'url', 'originalurl', 'href', 'referer', 'referrer', 'query', 'querystring', 'search']);
/** Fields holding a parsed query string (Express's `req.query`, Koa's `ctx.query`): their keys are parameter names. */
const QUERY_OBJECTS = new Set(['query', 'querystring', 'search', 'searchparams']);
/** Parameters that are credentials in a query (OAuth's `code`) but ordinary field names elsewhere (an error's `code`). */
const URL_PARAM_NAMES: ReadonlySet<string> = new Set(SENSITIVE_URL_PARAMS);
/** The private members of a JWK (RFC 7517/7518): EC and OKP `d`, RSA `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, a symmetric `k`. */
const JWK_PRIVATE: ReadonlySet<string> = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);
/** Lists of raw header names and values, alternating (Node's `IncomingMessage`). */
const RAW_HEADER_LISTS = new Set(['rawheaders', 'rawtrailers']);
/** A JSON field with a string value: `"name": "value"` (escapes inside the value kept whole). */
const JSON_STRING_FIELD = /"([^"\\\r\n]{1,100})"(\s*:\s*)"(?:[^"\\]|\\.)*"/g;
/** A value that opens as an `Authorization` header's does: a scheme, white space, then what may be its credential. */
const AUTHORIZATION_VALUE = /^(Bearer|Basic|ApiKey|Token)\s+([^\s,;]+)/i;
/** `name: value` in text, the value `[REDACTED]` already, quoted, or one run of characters up to white space or `,;)}]`. */
const COLON_PAIR = /(?<![A-Za-z0-9_.-])([A-Za-z][A-Za-z0-9_.-]{0,99})([ \t]*:[ \t]*)(\[REDACTED\]|"[^"\r\n]*"|'[^'\r\n]*'|[^\s"',;)}\]]+)/g;
/**
 * Names whose `name: value` in text is a secret, besides the listed ones: fewer than {@link SECRET_KEY}, since prose
 * writes `name: …` too (`the my-authorization: field`, `session: expired`); header lines are redacted apart.
 */
const COLON_SECRET = /(secret|password|passwd|pwd|passphrase|passcode|token|api[-_]?key|credentials?|pepper|(?:private|signing|secret|access|encryption|master|hmac|client)[-_]?key)$/i;
/**
 * A `Bearer` or `Basic` credential inside text (`upstream sent Bearer …`, `authorization=Bearer …`): the scheme, white
 * space, then a token68 that {@link isSchemeCredential} takes for a credential.
 */
const SCHEME_CREDENTIAL = /(?<![A-Za-z0-9])(Bearer|Basic)([ \t]+)([A-Za-z0-9\-._~+/]+=*)/gi;
/** A word of prose, lower-case or capitalised (`token`, `Authentication`, `expired`): no credential looks like one. */
const WORD = /^[A-Za-z][a-z]*[.:!?]?$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** A challenge's parameter (`realm="api"` of `Basic realm="api"`, a `WWW-Authenticate` value): no credential. */
const AUTH_PARAM = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+="/;
/**
 * Whether what follows a scheme's name is its credential rather than prose (`Basic Authentication is disabled`,
 * `Token expired`, a challenge's `Basic realm="api"`): not a word nor a `name="…"` parameter, and 8 characters or more,
 * or, after `Basic`, base64 that decodes to `user:password` (RFC 7617) however short (`Basic dTpw` is `u:p`).
 */
function isSchemeCredential(scheme: string, credential: string): boolean {
  if (WORD.test(credential) || AUTH_PARAM.test(credential)) return false;
  if (credential.length >= 8) return true;
  return scheme.toLowerCase() === 'basic' && BASE64.test(credential) && Buffer.from(credential, 'base64').includes(0x3a /* : */);
}
/**
 * Whether a value is an `Authorization` header's (`Bearer …`, `Basic …`, `ApiKey …`, `Token …`): what follows the
 * scheme is neither a word nor a challenge's parameter, however short (unlike a scheme inside text, a value that opens
 * with one is a header's).
 */
function isAuthorizationValue(value: string): boolean {
  const m = AUTHORIZATION_VALUE.exec(value);
  return m !== null && !WORD.test(m[2]!) && !AUTH_PARAM.test(m[2]!);
}
/**
 * A private key in PEM inside text (an error quoting a config, a dumped environment): from its BEGIN line to its END
 * line, or to the end of the text when cut off. Certificates and public keys are not secrets and stay.
 */
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;
/** `text` with the credential of every `Bearer …` / `Basic …` in it replaced. */
function redactSchemeCredentials(text: string): string {
  return text.replace(SCHEME_CREDENTIAL, (match: string, scheme: string, space: string, credential: string) => (isSchemeCredential(scheme, credential) ? `${scheme}${space}${REDACTED}` : match));
}
const MAX_DEPTH = 6;
const MAX_ITEMS = 100;
/** Characters of one string written, at most: a request body of 5,000,000 characters made a 10 MB log line. */
const MAX_STRING = 16_384;
/** Fields of one object written, at most: a request body of 200,000 fields made a 2.7 MB log line. */
const MAX_FIELDS = 200;

/**
 * Returns a copy of `value` safe to log: credential headers, credential query parameters (in any `path`/`url`/
 * `query` string), the values of those headers in a `rawHeaders` list, keys named like secrets, `Authorization`-style
 * values and anything shaped like a keyward key
 * are replaced by `[REDACTED]`; then every string, URL-like or not, has its key-shaped and JWT-shaped substrings
 * (and `name=value` pairs with a credential-like name) replaced too, as `redactQuery` does. Depth and array length
 * are bounded. The input is not modified.
 *
 * @throws TypeError when `redact` has a field that is not one of {@link RedactOptions}
 */
export function sanitize(value: unknown, redact: RedactOptions = {}): unknown {
  return createSanitizer(redact)(value);
}

/**
 * {@link sanitize} with `redact` checked and its name sets built once: the sinks make one at start-up and call it for
 * every line, rather than building the sets again for each event.
 *
 * @throws TypeError when `redact` has a field that is not one of {@link RedactOptions}
 */
export function createSanitizer(redact: RedactOptions = {}): (value: unknown) => unknown {
  checkRedact(redact);
  const headerNames = new Set([...SENSITIVE_HEADERS, ...(redact.headers ?? []).map((h) => h.toLowerCase())]);
  const queryExtra = redact.query ?? [];
  // Parameter names are redacted as fields too: a parsed query (`req.query`) holds its parameters as fields.
  const queryNames = new Set([...SENSITIVE_QUERY_PARAMS, ...queryExtra.map((q) => q.toLowerCase())]);
  const keyNames = new Set([...headerNames, ...queryNames, ...(redact.keys ?? []).map((k) => k.toLowerCase())]);
  const headerList = [...headerNames];
  /** A field, header or pair name whose value is a secret. */
  const secretName = (k: string): boolean => {
    const lk = k.toLowerCase();
    return keyNames.has(lk) || SECRET_KEY.test(lk);
  };
  /**
   * Whether the field or entry `k` of an object or list named `container` holds a secret: by {@link secretName}, and
   * as a parameter name inside a parsed query or a set of headers (`auth`, `X-Client-Key`; a query's `code`).
   */
  const secretIn = (container: string, k: string): boolean => {
    if (secretName(k)) return true;
    const query = QUERY_OBJECTS.has(container);
    return ((query || container === 'headers') && isCredentialName(k)) || (query && URL_PARAM_NAMES.has(k.toLowerCase()));
  };
  // Built at the first string with a `:`: most events have none.
  let headerLine: RegExp | undefined;
  /** A credential header written out in text (a raw request's `_header`, an error message): `Authorization: Basic …`. */
  const redactHeaderLines = (text: string): string => {
    headerLine ??= new RegExp(`(?<![A-Za-z0-9-])(${[...headerNames].map((h) => h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})("?[ \\t]*:[ \\t]*)("[^"\\r\\n]*"?|[^\\r\\n]+)`, 'gi');
    return text.replace(headerLine, (_, header: string, separator: string, value: string) => `${header}${separator}${value.startsWith('"') ? `"${REDACTED}"` : REDACTED}`);
  };
  /** A secret field in JSON written out as text (a raw body, an error message quoting a payload): `"password":"…"`. */
  const redactJsonFields = (text: string): string =>
    text.replace(JSON_STRING_FIELD, (field: string, key: string, separator: string) => (secretName(key) ? `"${key}"${separator}"${REDACTED}"` : field));
  /** A secret written `name: value` in text (YAML, a dumped config, a log message): `password: …`, `client_secret: '…'`. */
  const redactColonPairs = (text: string): string =>
    text.replace(COLON_PAIR, (pair: string, key: string, separator: string, value: string) =>
      value !== REDACTED && (keyNames.has(key.toLowerCase()) || COLON_SECRET.test(key)) ? `${key}${separator}${value.startsWith('"') || value.startsWith("'") ? `${value[0]}${REDACTED}${value[0]}` : REDACTED}` : pair,
    );
  const walk = (v: unknown, name: string, depth: number): unknown => {
    if (typeof v === 'string') {
      const lower = name.toLowerCase();
      if (!URL_KEYS.has(lower) && (isAuthorizationValue(v) || looksLikeKeywardKey(v))) return REDACTED;
      // A `Bearer …` in text first: `authorization=Bearer …` would otherwise lose only the scheme, as the value of its pair.
      let text = v.length < 14 ? v : redactSchemeCredentials(v);
      if (text.indexOf('-----BEGIN ') !== -1) text = text.replace(PEM_PRIVATE_KEY, REDACTED);
      // Names next, then shapes: a key in an unlisted parameter (`?x-api-key=…`) or in the path goes too.
      const clean = redactQuery(text.indexOf(':') === -1 ? text : redactColonPairs(redactHeaderLines(text.indexOf('":') === -1 && text.indexOf('" :') === -1 ? text : redactJsonFields(text))), queryExtra);
      // Cut after redaction: a credential across the cut is already [REDACTED] whole, none of it is left.
      return clean.length <= MAX_STRING ? clean : `${clean.slice(0, MAX_STRING)}…[TRUNCATED: ${clean.length - MAX_STRING} more characters]`;
    }
    if (typeof v === 'bigint') return v.toString(); // JSON has no BigInt: JSON.stringify would throw, the line lost
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= MAX_DEPTH) return '[TRUNCATED]';
    // A getter or a proxy that throws (its message may hold anything) costs its value, never the line: the caller's
    // request is not broken by a log line.
    try {
      if (Array.isArray(v)) {
        // Node's `rawHeaders` / `rawTrailers` (an IncomingMessage's own fields, logged with it): name, value, name, value…
        // A value is redacted as its header would be.
        // A flat `headers` list of strings (undici's `headers: [name, value, …]`) is read the same way.
        if (RAW_HEADER_LISTS.has(name.toLowerCase()) || (name.toLowerCase() === 'headers' && v.every((x) => typeof x === 'string'))) {
          return v.slice(0, MAX_ITEMS).map((x, i) => {
            const header = i % 2 === 1 ? v[i - 1] : undefined;
            return typeof header === 'string' && x !== undefined && (headerNames.has(header.toLowerCase()) || isCredentialName(header)) ? REDACTED : walk(x, name, depth + 1);
          });
        }
        // `[name, value]` pairs (`headers: [['x-api-key', …]]`, `Object.entries(req.headers)`) and `{ name, value }`
        // entries (a HAR's `headers`, `queryString` and `params`): a value is redacted as the field of that name would
        // be in an object of the list's name — a parsed query's `code` too.
        const list = name.toLowerCase();
        const secretPair = (n: string): boolean => secretIn(list, n);
        return v.slice(0, MAX_ITEMS).map((x) => {
          if (Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && x[1] !== undefined && x[1] !== REDACTED && secretPair(x[0])) return [x[0], REDACTED];
          if (typeof x === 'object' && x !== null && !Array.isArray(x) && typeof (x as { name?: unknown }).name === 'string' && (x as { value?: unknown }).value !== undefined && secretPair((x as { name: string }).name)) {
            return { ...(walk(x, name, depth + 1) as Record<string, unknown>), value: REDACTED };
          }
          return walk(x, name, depth + 1);
        });
      }
      // Any binary: a Uint8Array of a request body would otherwise be logged byte by byte, every credential in it readable.
      if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return `[${v.byteLength} bytes]`;
      // Logged whole, these would be `{}` (no own fields) or their text: a URL and a query as the strings they stand for,
      // a Map and a WHATWG Headers as objects of their entries, each then redacted as any other.
      if (v instanceof URL || v instanceof URLSearchParams) return walk(v.toString(), name, depth);
      // An Error's fields are not enumerable: logged as `{}`, what went wrong was lost. Its name, message and code are
      // written (the message redacted as any text: it may quote a header or a key), not its stack.
      if (v instanceof Error) {
        const code = (v as { code?: unknown }).code;
        return walk({ name: v.name, message: v.message, ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}) }, name, depth);
      }
      let object = v as Record<string, unknown>;
      if (v instanceof Map || (typeof Headers === 'function' && v instanceof Headers)) {
        object = {};
        let n = 0;
        for (const [k, x] of v as Iterable<[unknown, unknown]>) {
          if (n++ >= MAX_ITEMS) break;
          Object.defineProperty(object, String(k), { value: x, enumerable: true, writable: true, configurable: true }); // `__proto__` stays a field
        }
      }
      const source = name.toLowerCase() === 'headers' ? redactHeaders(object, headerList) : object;
      // The fields of a parsed query are parameter names: judged as in a query string (`auth`, `x-session`…).
      // So are header names (`X-Client-Key`, `X-Session-Token`): a deployment's own credential header goes unlisted too.
      const container = name.toLowerCase();
      // A JWK (a signing key from a config or a key set): its private members are one-letter names no list would hold.
      const jwk = typeof source['kty'] === 'string';
      // Object.fromEntries makes every name an own property: a field named `__proto__` stays in the log as a field.
      const entries = Object.entries(source);
      const out = Object.fromEntries(entries.slice(0, MAX_FIELDS).map(([k, x]) => [k, x !== undefined && x !== REDACTED && (secretIn(container, k) || (jwk && JWK_PRIVATE.has(k))) ? REDACTED : walk(x, k, depth + 1)]));
      if (entries.length > MAX_FIELDS) Object.defineProperty(out, '[TRUNCATED]', { value: `${entries.length - MAX_FIELDS} more fields`, enumerable: true, writable: true, configurable: true });
      return out;
    } catch {
      return '[UNREADABLE]';
    }
  };
  return (value) => walk(value, '', 0);
}
