import type { AuthRequest } from '../model';
import { boundedMemo } from '../util/memo';
import { checkFields, invalid, optionalBool, stringList, type Namer } from './invalid';

/** A compiled referrer restriction: true when the request's origin may call. */
export type ReferrerCheck = (request: AuthRequest) => boolean;

interface OriginRule {
  /** Scheme without `:`, or `undefined` for http and https. */
  readonly scheme: string | undefined;
  /** Lower-case ASCII host without a trailing dot; for a wildcard, the suffix with its leading dot. */
  readonly host: string;
  readonly wildcard: boolean;
  /** Port, or `undefined` for any. */
  readonly port: string | undefined;
}

/** Longest `Origin`/`Referer` value read; a longer one matches nothing. */
export const MAX_REFERRER_LENGTH = 4096;

const SCHEME_RE = /^[a-z][a-z0-9+.-]*$/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

const stripDot = (host: string) => (host.endsWith('.') ? host.slice(0, -1) : host);

/** Parses one rule `[scheme://][*.]host[:port][/]`, or returns `undefined`. */
export function parseOriginRule(rule: string): OriginRule | undefined {
  let text = rule.trim();
  let scheme: string | undefined;
  const sep = text.indexOf('://');
  if (sep !== -1) {
    scheme = text.slice(0, sep).toLowerCase();
    if (!SCHEME_RE.test(scheme)) return undefined;
    text = text.slice(sep + 3);
  }
  if (text.endsWith('/')) text = text.slice(0, -1);
  if (text === '' || /[/?#@\\\s]/.test(text)) return undefined;
  let wildcard = false;
  if (text.startsWith('*.')) {
    wildcard = true;
    text = text.slice(2);
  }
  if (text.indexOf('*') !== -1) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${text}`);
  } catch {
    return undefined;
  }
  const host = stripDot(url.hostname);
  if (host === '' || (wildcard && (host.startsWith('[') || /^[\d.]+$/.test(host)))) return undefined;
  // An explicit port equal to the scheme's default is kept as given: compare effective ports.
  const portMatch = /:(\d{1,5})$/.exec(text.startsWith('[') ? text.slice(text.indexOf(']')) : text);
  // With a scheme and no port, the rule is a full origin: the scheme's default port.
  const port = portMatch ? String(Number(portMatch[1])) : scheme !== undefined ? DEFAULT_PORTS[scheme] : undefined;
  if (port !== undefined && Number(port) > 65535) return undefined;
  return { scheme, host: wildcard ? `.${host}` : host, wildcard, port };
}

function matches(rule: OriginRule, scheme: string, host: string, port: string): boolean {
  if (rule.scheme === undefined ? scheme !== 'http' && scheme !== 'https' : rule.scheme !== scheme) return false;
  if (rule.port !== undefined && rule.port !== port) return false;
  return rule.wildcard ? host.length > rule.host.length && host.endsWith(rule.host) : host === rule.host;
}

/** The header naming a request's origin: `Origin`, else `Referer`. `null` when present but unusable, `undefined` when absent. */
function originHeader(request: AuthRequest): string | null | undefined {
  for (const name of ORIGIN_HEADERS) {
    const v = request.headers[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length > MAX_REFERRER_LENGTH) return null; // repeated or oversized: unusable
    if (v === '') continue;
    return v;
  }
  return undefined;
}

const ORIGIN_HEADERS = ['origin', 'referer'] as const;

/** Answers per distinct header value a compiled check remembers (then it starts over): bounded memory. */
const MEMO_SIZE = 1000;

/**
 * Compiles a `referrers` restriction once. The request's `Origin` (else `Referer`) is parsed as a URL and its scheme,
 * host and port compared to each rule — never a substring test. An opaque (`null`), malformed, repeated or oversized
 * header never matches. Without either header, `allowMissing` decides (default: refuse).
 *
 * @throws TypeError naming the rule that is not valid
 */
export function compileReferrers(value: unknown, name: Namer, path: string): ReferrerCheck | undefined {
  const v = checkFields(value, ['allow', 'allowMissing'], name, path);
  const allow = stringList(v.allow, name, `${path}.allow`, 1000, 300);
  if (!allow) throw invalid(name(`${path}.allow`), 'must be an array of origins');
  const allowMissing = optionalBool(v.allowMissing, name, `${path}.allowMissing`) ?? false;
  const rules = allow.map((r, i) => {
    const rule = parseOriginRule(r);
    if (!rule) throw invalid(name(`${path}.allow[${i}]`), 'must be an origin such as "example.com", "*.example.com" or "https://app.example.com:8443"');
    return rule;
  });
  const judge = (value: string): boolean => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return false; // includes `Origin: null` (opaque origins)
    }
    const scheme = url.protocol.slice(0, -1);
    const host = stripDot(url.hostname);
    const port = url.port || DEFAULT_PORTS[scheme] || '';
    for (const rule of rules) if (matches(rule, scheme, host, port)) return true;
    return false;
  };
  // The same few origins come again and again: parse each once, not on every request.
  const allowed = boundedMemo(judge, MEMO_SIZE);
  return (request) => {
    const value = originHeader(request);
    if (value === undefined) return allowMissing;
    return value !== null && allowed(value);
  };
}
