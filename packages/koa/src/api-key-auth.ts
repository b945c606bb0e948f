import type { Context, Middleware, Next } from 'koa';
import { decidedBefore, onResponseDone, resolveMount, toAuthRequest, type Decision, type Keyward, type MountOptions } from '@keyward/core';
import { DECISION, respondDenial } from './types';

/** Options of {@link apiKeyAuth}: keyward's options, or an existing instance in `keyward`, plus `scopes` and `cost`. */
export type ApiKeyAuthOptions = MountOptions;

/**
 * Koa's `ctx.onerror` removes every header set before an error (a downstream throw, `ctx.throw(404)`) and sets the
 * error's own `headers`: keyward's (`RateLimit`, `Deprecation`, …) go into them, as `@koa/cors` does, so an error
 * response carries them as Express's and Nest's do. A header the error names itself wins.
 */
function keepHeadersOnError(err: unknown, headers: Readonly<Record<string, string>>): never {
  if (err !== null && typeof err === 'object') {
    const own: unknown = Reflect.get(err, 'headers');
    // Reflect.set: an error whose `headers` cannot be set (frozen, a getter) goes on as it is, not as a TypeError.
    Reflect.set(err, 'headers', own !== null && typeof own === 'object' ? { ...headers, ...own } : { ...headers });
  }
  throw err;
}

/** The Koa middleware, with its keyward instance attached. */
export type KeywardMiddleware = Middleware & { readonly keyward: Keyward };

/**
 * Authenticates every request with keyward. On success `ctx.state.auth` holds the principal; on refusal the
 * response is the core's status, headers and `application/problem+json` body, and no later middleware runs. A request
 * another mount of the same instance authenticated already is not decided again (its limits, events and completion
 * count once): this mount's `scopes` are checked against that decision, as `requireScopes()` does, and its `cost` is
 * not counted.
 *
 * @example
 * ```ts
 * const auth = apiKeyAuth({ publicPaths: ['/health'] });
 * app.use(auth);
 * router.get('/docs', requireScopes('docs:read'), (ctx) => { ctx.body = { caller: ctx.state.auth?.id }; });
 * const { key } = await auth.keyward.keys.create({ owner: 'acme', scopes: ['docs:read'] });
 * ```
 * @throws TypeError at start-up naming the option for every misconfiguration
 */
export function apiKeyAuth(optionsOrInstance?: ApiKeyAuthOptions | Keyward): KeywardMiddleware {
  const { keyward, requirements } = resolveMount(optionsOrInstance);
  const proceed = (ctx: Context, next: Next, method: string, decision: Decision): Promise<void> | void => {
    if (!decision.ok) return respondDenial(ctx, decision);
    ctx.state.auth = decision.principal;
    ctx.state[DECISION] = { decision, keyward };
    if (decision.tracked) onResponseDone(ctx.res, decision.done, method);
    for (const _ in decision.headers) {
      // Only when there are any (Koa's set() costs even for none, and so would the catch).
      ctx.set(decision.headers);
      // Promise.resolve returns Koa's promise itself; it only guards a hand-called middleware whose `next` is sync.
      return Promise.resolve(next()).catch((err: unknown) => keepHeadersOnError(err, decision.headers));
    }
    return next();
  };
  // Not `async`: when the core decides at once, the request goes on without an extra promise (Koa wraps the result).
  const middleware = (ctx: Context, next: Next) => {
    // Let through already by another mount of this instance (app-level, then one on a route): decided once.
    const again = decidedBefore(ctx.state[DECISION], keyward, requirements.scopes);
    if (again !== false) return again ? respondDenial(ctx, again) : next();
    const request = toAuthRequest(ctx.req, ctx.originalUrl);
    const decision = keyward.decide(request, requirements);
    return decision instanceof Promise ? decision.then((d) => proceed(ctx, next, request.method, d)) : proceed(ctx, next, request.method, decision);
  };
  return Object.assign(middleware, { keyward });
}
