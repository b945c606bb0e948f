import type { Context, Middleware, Next } from 'koa';
import { compileScopeArgs, KeywardError, type CompiledScopes } from '@keyward/core';
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
  return async (ctx: Context, next: Next) => {
    const slot = ctx.state[DECISION];
    if (!slot) throw new KeywardError('NOT_AUTHENTICATED', 'requireScopes() runs after apiKeyAuth(); mount apiKeyAuth() first');
    const denial = slot.keyward.authorize(slot.decision, compiled);
    if (denial) return respondDenial(ctx, denial);
    await next();
  };
}
