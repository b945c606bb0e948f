import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveEndpoint, type Endpoint } from '@keyward/core';

/**
 * A functional Nest middleware. On both platforms Nest hands middleware Node's own request and response (on Fastify
 * through @fastify/middie, as `req.raw` / `reply.raw`).
 */
export type EndpointMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Serves a core endpoint (token endpoint, JWKS, metrics) as Nest middleware: apply it to a route in your module's
 * `configure()`. It answers before guards run, so the endpoint does its own authentication. On Express, uses Nest's
 * raw body when the app was created with `{ rawBody: true }`, else the parsed body. On Fastify, middleware runs
 * before Fastify reads the body, so the endpoint reads the bytes as sent itself, with or without `rawBody`.
 *
 * @example
 * ```ts
 * export class AppModule implements NestModule {
 *   constructor(@InjectKeyward() private readonly kw: Keyward) {}
 *   configure(consumer: MiddlewareConsumer) {
 *     consumer.apply(endpoint(this.kw.tokens.endpoint())).forRoutes({ path: 'oauth/token', method: RequestMethod.ALL }); // 405 for all but POST
 *   }
 * }
 * ```
 */
export function endpoint(handler: Endpoint): EndpointMiddleware {
  if (typeof handler !== 'function') throw new TypeError('keyward: endpoint() takes a core endpoint function');
  return (req, res, next) => {
    const r = req as IncomingMessage & { originalUrl?: string; rawBody?: unknown; body?: unknown };
    serveEndpoint(handler, req, res, r.originalUrl ?? req.url, r.rawBody ?? r.body).catch(next);
  };
}
