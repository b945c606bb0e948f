import type { AuthRequest } from '../model';
import { checkFields, invalid, stringList, type Namer } from './invalid';

/** A compiled route restriction: true when the request's method and path may be called. */
export type RouteCheck = (request: AuthRequest) => boolean;

const METHOD_RE = /^[A-Z][A-Z-]{0,19}$/;
const SEGMENT_RE = /^[A-Za-z0-9\-._~!$&'()+,;=:@%]+$/;

type Segment = { readonly kind: 'literal'; readonly value: string } | { readonly kind: 'one' };

interface Route {
  readonly methods: ReadonlySet<string> | undefined;
  readonly segments: readonly Segment[];
  readonly rest: boolean;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Splits a request path into decoded segments. `undefined` for paths that could be read two ways: `.`/`..`
 * segments, encoded `/` or `\`, bad percent-encoding, empty inner segments (`//`), a path not starting with `/`, or
 * a raw `#` (a request target has no fragment, yet Express, Koa and Fastify route only what is before one:
 * `/v1/admin#/docs/1` reaches `/v1/admin`). One trailing slash is ignored.
 */
export function pathSegments(path: string): string[] | undefined {
  if (!path.startsWith('/') || path.length > 8192 || path.indexOf('#') !== -1) return undefined;
  let p = path.slice(1);
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '') return [];
  const out: string[] = [];
  for (const raw of p.split('/')) {
    if (raw === '') return undefined;
    const s = decode(raw);
    if (s === undefined || s === '.' || s === '..' || s.indexOf('/') !== -1 || s.indexOf('\\') !== -1) return undefined;
    out.push(s);
  }
  return out;
}

function compileRoute(value: unknown, name: Namer, path: string): Route {
  const v = checkFields(value, ['path', 'methods'], name, path);
  const pattern = v.path;
  if (typeof pattern !== 'string' || !pattern.startsWith('/') || pattern.length > 1024) throw invalid(name(`${path}.path`), 'must be a path pattern starting with "/"');
  const methodList = stringList(v.methods, name, `${path}.methods`, 20, 20);
  const methods = methodList && new Set(methodList.map((m, i) => {
    const up = m.toUpperCase();
    if (!METHOD_RE.test(up)) throw invalid(name(`${path}.methods[${i}]`), 'must be an HTTP method such as "GET"');
    return up;
  }));
  if (methods?.has('GET')) methods.add('HEAD');
  const raw = pattern === '/' ? [] : pattern.replace(/\/$/, '').slice(1).split('/');
  const segments: Segment[] = [];
  let rest = false;
  raw.forEach((s, i) => {
    const bad = () => invalid(name(`${path}.path`), 'must be made of literal segments, ":name" or "*" (one segment), and a final "**"');
    if (s === '**') {
      if (i !== raw.length - 1) throw bad();
      rest = true;
    } else if (s === '*' || (s.startsWith(':') && /^:[A-Za-z_][A-Za-z0-9_]*$/.test(s))) segments.push({ kind: 'one' });
    else {
      const decoded = SEGMENT_RE.test(s) ? decode(s) : undefined;
      if (decoded === undefined || decoded === '.' || decoded === '..' || s.indexOf('*') !== -1) throw bad();
      segments.push({ kind: 'literal', value: decoded });
    }
  });
  return { methods, segments, rest };
}

function matchRoute(route: Route, method: string, segments: readonly string[]): boolean {
  if (route.methods && !route.methods.has(method)) return false;
  if (route.rest ? segments.length < route.segments.length : segments.length !== route.segments.length) return false;
  for (let i = 0; i < route.segments.length; i++) {
    const s = route.segments[i]!;
    if (s.kind === 'literal' && s.value !== segments[i]) return false;
  }
  return true;
}

/**
 * Compiles a `routes` restriction once: the request must match one route's methods and path pattern.
 *
 * @throws TypeError naming the route that is not valid
 */
export function compileRoutes(value: unknown, name: Namer, path: string): RouteCheck | undefined {
  if (!Array.isArray(value) || value.length > 1000) throw invalid(name(path), 'must be an array of at most 1000 routes ({ path, methods? })');
  const routes = value.map((r, i) => compileRoute(r, name, `${path}[${i}]`));
  const allowed = (method: string, path: string): boolean => {
    const segments = pathSegments(path);
    if (!segments) return false;
    for (const r of routes) if (matchRoute(r, method, segments)) return true;
    return false;
  };
  return (request) => {
    const method = request.method.toUpperCase();
    const path = request.path;
    // Fastify with `useSemicolonDelimiter` routes only what is before a `;` (`/v1/admin;/docs/1` is /v1/admin), other
    // routers the whole: both readings must be allowed.
    const semi = path.indexOf(';');
    return allowed(method, path) && (semi === -1 || allowed(method, path.slice(0, semi)));
  };
}
