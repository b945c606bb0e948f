import { REDACTED, boundedMemo, redactQuery } from '@keyward/core';

/** Turns a request path into a bounded route label. */
export type RouteNormaliser = (path: string, method?: string) => string;

const ID_SEGMENT = [
  /^\d+$/, // 42
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, // UUID
  /^[0-9a-f]{12,}$/i, // hex ids, hashes
  /^(?=.*\d)[A-Za-z0-9_-]{16,}$/, // long tokens with digits (base62 ids, keys)
  /^.{40,}$/, // anything very long
];

/** The label of a path segment that held a credential (a keyward key, a JWT). */
const CREDENTIAL_SEGMENT = ':credential';

/**
 * The last path normalised by {@link defaultRouteNormaliser} and its route, until the next one. keyward's own events
 * carry paths already redacted; the memo below, which outlives them, is filled only after redaction.
 */
let lastPath = '\u0000';
let lastRoute = '';

/**
 * The default route normaliser: drops the query, replaces segments holding anything shaped like a credential (a
 * keyward key, a JWT) with `:credential` and id-like segments (numbers, UUIDs, hex, long tokens) with `:id`, keeps at
 * most 6 segments (`/…` marks the cut), lower-cases nothing. `/v1/users/42/keys?x=1` → `/v1/users/:id/keys`.
 */
export const defaultRouteNormaliser: RouteNormaliser = (path) => {
  if (path === lastPath) return lastRoute; // consecutive events of one path: no redaction pass, no look-up
  const q = path.indexOf('?');
  // Redacted before it is remembered: the memo never holds a credential, and the query never reaches it.
  const route = routeOf(redactQuery(q === -1 ? path : path.slice(0, q)));
  lastPath = path;
  lastRoute = route;
  return route;
};

/** Paths repeat: recent answers are remembered (bounded), so the common event costs one map look-up. */
const routeOf = boundedMemo((bare: string): string => {
  const segments = bare.split('/').slice(1);
  const out = segments.slice(0, 6).map((s) => (s.includes(REDACTED) ? CREDENTIAL_SEGMENT : s !== '' && ID_SEGMENT.some((re) => re.test(s)) ? ':id' : s));
  return `/${out.join('/')}${segments.length > 6 ? '/…' : ''}`;
}, 1000);

/**
 * Bounds the number of distinct route labels: the first `max` distinct routes are kept, later ones become `other`.
 * A route is added only when `admit` is not `false`: the exporter admits none from requests that name no key, so
 * anonymous requests to made-up paths cannot take the labels and leave every real route `other`.
 */
export function boundedRoutes(normalise: RouteNormaliser, max: number): (path: string, method?: string, admit?: boolean) => string {
  const seen = new Set<string>();
  return (path, method, admit = true) => {
    const route = normalise(path, method);
    if (seen.has(route)) return route;
    if (seen.size >= max || !admit) return 'other';
    seen.add(route);
    return route;
  };
}
