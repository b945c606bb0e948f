import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IncomingMessage, type ServerResponse } from 'node:http';
import { compileScopes, onResponseDone, prepareResponseTracking, setHeaders, setRequestAuth, toAuthRequest, type AllowDecision, type CompiledScopes, type Decision, type DenyDecision, type Keyward, type Requirements, type ScopeRequirement } from '@keyward/core';
import { KeywardException } from './exception';
import type { FastifyReplyLike, PlatformRequest } from './platform';
import { COST_METADATA, KEYWARD, PUBLIC_METADATA, SCOPES_METADATA } from './tokens';

/** What a request was let through with: the instance, its decision, and the scopes it was decided for. */
interface Decided {
  readonly keyward: Keyward;
  readonly decision: AllowDecision;
  readonly scopes: ScopeRequirement;
}

/** Requests already decided (a WeakMap, so the guard never changes the shape of the request object). */
const checked = new WeakMap<object, Decided>();

/** Sets a denial's headers on the response and throws it, for the exception filter. */
function refuse(res: ServerResponse, denial: DenyDecision): never {
  const { 'Content-Type': _type, ...headers } = denial.headers;
  setHeaders(res, headers);
  throw new KeywardException(denial);
}

/**
 * Applies a decision: the principal on the request the handler receives, or the denial thrown (after its headers
 * are set). Headers go on Node's response: Fastify's `writeHead` merges them with its own, so they reach the client
 * on both platforms, whoever writes the response.
 */
function admit(req: PlatformRequest, res: ServerResponse, method: string, decision: Decision, keyward: Keyward, scopes: ScopeRequirement): true {
  if (!decision.ok) refuse(res, decision);
  setHeaders(res, decision.headers);
  setRequestAuth(req, decision.principal); // on Express an accessor, not a new property of each request (see setRequestAuth)
  checked.set(req, { keyward, decision, scopes });
  if (decision.tracked) onResponseDone(res, decision.done, method);
  return true;
}

/**
 * Whether a controller is `@Public()`. The nearest class of its chain that says `@Public()` or `@Scopes()` decides, as
 * a handler's own word wins over its controller's: a subclass with `@Scopes()` of a `@Public()` base is protected
 * (metadata read plainly is inherited, so the base's `@Public()` would open it), and one with `@Public()` of a
 * `@Scopes()` base is open.
 */
function publicClass(cls: object): boolean {
  for (let c: object | null = cls; c !== null && c !== Function.prototype; c = Object.getPrototypeOf(c) as object | null) {
    if (Reflect.getOwnMetadata(PUBLIC_METADATA, c) === true) return true;
    if (Reflect.hasOwnMetadata(SCOPES_METADATA, c)) return false;
  }
  return false;
}

/**
 * Authenticates each request with keyward, with the route's `@Scopes()` and `@Cost()`, skipping `@Public()`
 * handlers. On success `req.auth` (and `@Auth()`) holds the principal; a refusal is thrown as a
 * {@link KeywardException} after its headers (`WWW-Authenticate`, `Retry-After`, …) are set on the response.
 * Works on Nest's Express and Fastify platforms (`req` is then the FastifyRequest; the URL, headers and completion
 * are read from and tracked on the Node request and response under it).
 * Use it globally (`{ provide: APP_GUARD, useClass: KeywardGuard }`) or per controller (`@UseGuards(KeywardGuard)`).
 * Only HTTP contexts are supported; any other is refused unless `@Public()`.
 */
@Injectable()
export class KeywardGuard implements CanActivate {
  constructor(
    @Inject(KEYWARD) protected readonly keyward: Keyward,
    @Inject(Reflector) protected readonly reflector: Reflector,
  ) {
    prepareResponseTracking(); // before any request, so a middleware that keeps res.write/res.end keeps the counting ones
  }

  /** Route metadata is static: read once per handler and controller, then reused. */
  private readonly routes = new WeakMap<object, Map<object, { isPublic: boolean; requirements: Requirements }>>();

  /** Answers synchronously when the core decides at once (a cached key), so the common request awaits nothing. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, requirements } = this.route(context);
    if (isPublic) return true;
    if (context.getType() !== 'http') return false;
    // An HTTP context's arguments are (request, response, next); switchToHttp() would build three closures per call.
    const req = context.getArgByIndex<PlatformRequest>(0);
    // Nest on Express hands over Node's own request and response (the instanceof answers at once); on Fastify they
    // are wrapped (`raw`).
    const node = req instanceof IncomingMessage || !('raw' in req) ? req : req.raw;
    const res = node === req ? context.getArgByIndex<ServerResponse>(1) : context.getArgByIndex<FastifyReplyLike>(1).raw;
    const earlier = checked.get(req);
    if (earlier !== undefined && earlier.keyward === this.keyward) {
      // Decided once already (the guard bound globally and on the controller, or a subclass with requirements of its
      // own): not decided again, but scopes other than those it was decided for are checked, as requireScopes() does.
      const scopes = requirements.scopes;
      if (scopes === undefined || scopes === earlier.scopes) return true;
      const denial = this.keyward.authorize(earlier.decision, compileScopes(scopes));
      return denial ? refuse(res, denial) : true;
    }
    // Reflect.get: on Express each request has a hidden class of its own, and a plain read misses V8's caches (see
    // toAuthRequest).
    const request = toAuthRequest(node, (Reflect.get(req, 'originalUrl') as string | undefined) ?? req.url);
    const decision = this.keyward.decide(request, requirements);
    const { scopes } = requirements;
    return decision instanceof Promise ? decision.then((d) => admit(req, res, request.method, d, this.keyward, scopes)) : admit(req, res, request.method, decision, this.keyward, scopes);
  }

  /** `@Public()`, `@Scopes()` and `@Cost()` of the route (handler first, then controller). */
  protected route(context: ExecutionContext): { isPublic: boolean; requirements: Requirements } {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.routes.get(handler);
    let entry = byClass?.get(cls);
    if (entry) return entry;
    const targets = [handler, cls];
    const scopes = this.reflector.getAllAndOverride<CompiledScopes | undefined>(SCOPES_METADATA, targets);
    const cost = this.reflector.getAllAndOverride<number | undefined>(COST_METADATA, targets);
    // The handler's own word wins: @Scopes() on a handler of a @Public() controller protects that handler, as
    // @Public() on a handler of a @Scopes() controller opens it.
    const publicHandler = this.reflector.get<boolean | undefined>(PUBLIC_METADATA, handler);
    const isPublic = publicHandler !== undefined ? publicHandler === true : this.reflector.get<CompiledScopes | undefined>(SCOPES_METADATA, handler) === undefined && publicClass(cls);
    entry = { isPublic, requirements: { ...(scopes ? { scopes } : {}), ...(cost !== undefined ? { cost } : {}) } };
    if (!byClass) this.routes.set(handler, (byClass = new Map()));
    byClass.set(cls, entry);
    return entry;
  }
}
