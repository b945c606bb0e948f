import type { Context, Middleware, Next } from 'koa';
import { authorizeRoute, compileScopeArgs, type CompiledScopes } from '@keyward/core';
import { DECISION, respondDenial } from './types';

/**
 * Requires scopes on one route (e.g. a `@koa/router` route). Give scope names (all required) or one expression such
 * as `'(docs:read OR docs:write) AND users:view'`; it is parsed once, here. Needs `apiKeyAuth()` before it.
 *
 * @example
 * ```ts
 * router.get('/docs', requireScopes('docs:read'), handler);
 * router.post('/docs', requireScopes('docs:write', 'users:view'), handler);
 * ```
 * @throws TypeError at start-up for an invalid scope or expression
 */
export function requireScopes(...scopes: (string | CompiledScopes)[]): Middleware {
  const compiled = compileScopeArgs(scopes);
  return (ctx: Context, next: Next) => {
    const denial = authorizeRoute(ctx.state[DECISION], compiled); // throws NOT_AUTHENTICATED into Koa's error handling
    if (denial) return respondDenial(ctx, denial);
    return next();
  };
}
