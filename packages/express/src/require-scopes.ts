import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { authorizeRoute, compileScopeArgs, writeDenial, type CompiledScopes } from '@keyward/core';
import { decisionOf } from './types';

/**
 * Requires scopes on one route. Give scope names (all required) or one expression such as
 * `'(docs:read OR docs:write) AND users:view'`; it is parsed once, here. Needs `apiKeyAuth()` before it.
 *
 * @example
 * ```ts
 * app.get('/docs', requireScopes('docs:read'), handler);
 * app.post('/docs', requireScopes('docs:write', 'users:view'), handler);
 * ```
 * @throws TypeError at start-up for an invalid scope or expression
 */
export function requireScopes(...scopes: (string | CompiledScopes)[]): RequestHandler {
  const compiled = compileScopeArgs(scopes);
  return (req: Request, res: Response, next: NextFunction) => {
    const denial = authorizeRoute(decisionOf(req), compiled); // throws NOT_AUTHENTICATED: Express hands it to the error handler
    if (denial) return writeDenial(res, denial);
    next();
  };
}
