import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  compileScopes,
  createKeyward,
  isKeyward,
  onResponseDone,
  setHeaders,
  toAuthRequest,
  writeDenial,
  type CompiledScopes,
  type Keyward,
  type KeywardOptions,
} from '@keyward/core';
import { DECISION } from './types';

/** Options of {@link apiKeyAuth}: keyward's options, or an existing instance, plus this mount's requirements. */
export interface ApiKeyAuthOptions extends KeywardOptions {
  /** Use this instance instead of creating one (then no other keyward option may be given). */
  keyward?: Keyward;
  /** Scopes every request through this middleware needs (array or expression). */
  scopes?: string | readonly string[];
  /** Weighted cost of each request for rate limits (default 1). */
  cost?: number;
}

/** The Express middleware, with its keyward instance attached. */
export type KeywardMiddleware = RequestHandler & { readonly keyward: Keyward };

function split(arg: ApiKeyAuthOptions | Keyward | undefined): { kw: Keyward; scopes?: CompiledScopes; cost?: number } {
  if (isKeyward(arg)) return { kw: arg };
  const { keyward, scopes, cost, ...options } = arg ?? {};
  if (keyward !== undefined && !isKeyward(keyward)) throw new TypeError('keyward: option "keyward" must be an instance from createKeyward()');
  if (keyward && Object.keys(options).length > 0) throw new TypeError(`keyward: option "keyward" cannot be combined with other keyward options (${Object.keys(options).join(', ')})`);
  if (cost !== undefined && (!Number.isFinite(cost) || cost < 0)) throw new TypeError('keyward: option "cost" must be a non-negative number');
  return { kw: keyward ?? createKeyward(options), ...(scopes !== undefined ? { scopes: compileScopes(scopes) } : {}), ...(cost !== undefined ? { cost } : {}) };
}

/**
 * Authenticates every request with keyward. On success `req.auth` holds the principal; on refusal the response is
 * the core's status, headers and `application/problem+json` body.
 *
 * @example
 * ```ts
 * const auth = apiKeyAuth({ publicPaths: ['/health'] });
 * app.use(auth);
 * app.get('/docs', requireScopes('docs:read'), handler);
 * const { key } = await auth.keyward.keys.create({ owner: 'acme', scopes: ['docs:read'] });
 * ```
 */
export function apiKeyAuth(optionsOrInstance?: ApiKeyAuthOptions | Keyward): KeywardMiddleware {
  const { kw, scopes, cost } = split(optionsOrInstance);
  const requirements = { ...(scopes ? { scopes } : {}), ...(cost !== undefined ? { cost } : {}) };
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    kw.check(toAuthRequest(req, req.originalUrl), requirements).then((decision) => {
      if (!decision.ok) return writeDenial(res, decision);
      setHeaders(res, decision.headers);
      req.auth = decision.principal;
      req[DECISION] = { decision, keyward: kw };
      if (!decision.skipped) onResponseDone(res, decision.done);
      next();
    }, next);
  };
  return Object.assign(middleware, { keyward: kw });
}
