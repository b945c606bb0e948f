import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { serveEndpoint, type Endpoint } from '@keyward/core';

/**
 * Mounts a core endpoint (token endpoint, JWKS, metrics) on Express. Works with or without a body parser in front.
 *
 * @example
 * ```ts
 * app.all('/oauth/token', endpoint(kw.tokens.endpoint())); // before app.use(apiKeyAuth(...)); every method: 405 for all but POST
 * ```
 */
export function endpoint(handler: Endpoint): RequestHandler {
  if (typeof handler !== 'function') throw new TypeError('keyward: endpoint() takes a core endpoint function');
  return (req: Request, res: Response, next: NextFunction) => {
    serveEndpoint(handler, req, res, req.originalUrl, (req as { body?: unknown }).body).catch(next);
  };
}
