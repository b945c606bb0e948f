import { IncomingMessage } from 'node:http';
import type { Principal } from '../model';

/**
 * The principals set through {@link setRequestAuth}, by request: what `req.auth` reads when it is an accessor. A
 * WeakMap, so an entry dies with its request; the principal of a key is shared by all its requests and already old.
 */
const principals = new WeakMap<object, unknown>();

function getAuth(this: object): unknown {
  return principals.get(this);
}

function setAuth(this: object, value: unknown): void {
  principals.set(this, value);
}

/** The last request prototype whose chain was found to carry keyward's accessor: the common request checks only this. */
let carrying: object | null = null;

/**
 * The last request prototype with no Express-style request prototype on its chain (Fastify's, for one): its requests
 * always get a plain property, so the chain is not walked again for each of them.
 */
let baseless: object | null = null;

/** Whether `auth` on the chain from `o` is keyward's accessor (`true`), something else (`false`), or nothing (`undefined`). */
function authOnChain(o: object | null): boolean | undefined {
  for (; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const own = Object.getOwnPropertyDescriptor(o, 'auth');
    if (own) return own.get === getAuth && own.set === setAuth;
  }
  return undefined;
}

/**
 * Defines `auth` as keyward's accessor on `base`, a request prototype whose own prototype is Node's
 * `IncomingMessage.prototype` (Express's `request`), unless something on its chain defines `auth` already or it cannot
 * be extended. Adapters call it when a mount is created, so the accessor exists before the first request (a request
 * that got an own `auth` earlier would keep it). Returns whether `base` now carries the accessor.
 */
export function prepareRequestAuth(base: object): boolean {
  if (Object.getPrototypeOf(base) !== IncomingMessage.prototype) return false;
  const found = authOnChain(base);
  if (found !== undefined) return found;
  if (!Object.isExtensible(base)) return false;
  Object.defineProperty(base, 'auth', { configurable: true, enumerable: false, get: getAuth, set: setAuth });
  return true;
}

/**
 * Whether the `auth` of requests of prototype `proto` is (or could now be made) keyward's accessor. It is installed once, on the request prototype
 * an Express-style framework puts right above Node's `IncomingMessage.prototype` (Express's own `request` object, shared
 * by all its apps and sub-apps), and only when nothing on the chain defines `auth` already. Node's own prototypes are
 * never touched; any other request keeps a plain property.
 */
function carriesAccessor(proto: object): boolean {
  const found = authOnChain(proto);
  if (found !== undefined) return found;
  for (let o: object | null = proto; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.getPrototypeOf(o) === IncomingMessage.prototype) return prepareRequestAuth(o);
  }
  baseless = proto;
  return false;
}

/**
 * Sets `req.auth` to the principal. On Express (and Nest on Express), `auth` becomes an accessor on Express's request
 * prototype that reads and writes a WeakMap, rather than an own property of each request: Express gives every request
 * a hidden class of its own, and adding a property to such an object copies all its property descriptors (~25k CPU
 * instructions per request, 4 % of a whole Express request; `bench/instructions.js`). The accessor behaves as the
 * property did — any code may read or assign `req.auth` — except that it is not an own, enumerable property of the
 * request. Elsewhere (a plain Node request, Fastify's) it is a plain assignment.
 */
export function setRequestAuth(req: object, principal: Principal | undefined): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  // A request someone gave an own `auth` keeps it as a plain property: the accessor would be hidden behind it.
  if (proto !== null && proto !== baseless && !Object.prototype.hasOwnProperty.call(req, 'auth') && (proto === carrying || carriesAccessor(proto))) {
    carrying = proto;
    principals.set(req, principal);
  } else {
    (req as { auth?: Principal }).auth = principal;
  }
}
