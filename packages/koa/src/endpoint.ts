import type { Context, Middleware } from 'koa';
import { endpointResponse, type Endpoint } from '@keyward/core';

/**
 * Mounts a core endpoint (token endpoint, JWKS, metrics) on Koa. Works with or without a body parser in front
 * (`ctx.request.rawBody` or `ctx.request.body` is used when the body was already read).
 *
 * @example
 * ```ts
 * router.all('/oauth/token', endpoint(kw.tokens.endpoint())); // before apiKeyAuth(...); every method: 405 for all but POST
 * ```
 */
export function endpoint(handler: Endpoint): Middleware {
  if (typeof handler !== 'function') throw new TypeError('keyward: endpoint() takes a core endpoint function');
  return async (ctx: Context) => {
    const request = ctx.request as { rawBody?: unknown; body?: unknown };
    const response = await endpointResponse(handler, ctx.req, ctx.originalUrl, request.rawBody ?? request.body);
    ctx.status = response.status;
    ctx.set(response.headers);
    ctx.body = response.body;
  };
}
