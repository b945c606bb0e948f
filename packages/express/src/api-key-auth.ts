import { request as expressRequest, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { decidedBefore, onResponseDone, resolveMount, prepareRequestAuth, setHeaders, setRequestAuth, toAuthRequest, writeDenial, type Decision, type Keyward, type MountOptions } from '@keyward/core';
import { decisionOf, releaseDecision, setDecision } from './types';

/** Options of {@link apiKeyAuth}: keyward's options, or an existing instance, plus this mount's requirements. */
export type ApiKeyAuthOptions = MountOptions;

/** The Express middleware, with its keyward instance attached. */
export type KeywardMiddleware = RequestHandler & { readonly keyward: Keyward };

/**
 * Authenticates every request with keyward. On success `req.auth` holds the principal; on refusal the response is
 * the core's status, headers and `application/problem+json` body. A request another mount of the same instance
 * authenticated already is not decided again (its limits, events and completion count once): this mount's `scopes`
 * are checked against that decision, as `requireScopes()` does, and its `cost` is not counted.
 *
 * @example
 * ```ts
 * const auth = apiKeyAuth({ publicPaths: ['/health'] });
 * app.use(auth);
 * app.get('/docs', requireScopes('docs:read'), handler);
 * const { key } = await auth.keyward.keys.create({ owner: 'acme', scopes: ['docs:read'] });
 * ```
 * @throws TypeError at start-up naming the option for every misconfiguration
 */
export function apiKeyAuth(optionsOrInstance?: ApiKeyAuthOptions | Keyward): KeywardMiddleware {
  const { keyward, requirements } = resolveMount(optionsOrInstance);
  prepareRequestAuth(expressRequest); // req.auth's accessor exists before the first request (see setRequestAuth)
  const proceed = (req: Request, res: Response, next: NextFunction, method: string, decision: Decision) => {
    if (!decision.ok) return writeDenial(res, decision);
    setHeaders(res, decision.headers);
    setRequestAuth(req, decision.principal); // an accessor, not a new property of Express's request (see setRequestAuth)
    setDecision(req, { decision, keyward });
    // The decision is forgotten with the response, so nothing of it outlives the request (see releaseDecision).
    if (decision.tracked) onResponseDone(res, (info) => { releaseDecision(req); decision.done(info); }, method);
    next();
  };
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    // Let through already by another mount of this instance (app-level, then one with scopes): decided once.
    const again = decidedBefore(decisionOf(req), keyward, requirements.scopes);
    if (again !== false) return again ? writeDenial(res, again) : next();
    // Reflect.get: Express gives each request a hidden class of its own, so a plain read misses V8's caches when
    // Express changed the request since its own read (a route-level mount; see toAuthRequest).
    const request = toAuthRequest(req, Reflect.get(req, 'originalUrl') as string);
    const decision = keyward.decide(request, requirements);
    // A failure of the core, or of writing the answer, goes to Express's error handling (never an unhandled rejection).
    if (decision instanceof Promise) decision.then((d) => proceed(req, res, next, request.method, d)).then(undefined, next);
    else proceed(req, res, next, request.method, decision);
  };
  return Object.assign(middleware, { keyward });
}
