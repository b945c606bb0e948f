import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal, ResponseHeaders } from '@keyward/core';

/**
 * The request a handler receives, as keyward reads it. On Nest's Express platform it is Node's `IncomingMessage`
 * itself; on `@nestjs/platform-fastify` it is a FastifyRequest whose `raw` is the `IncomingMessage`. Structural, so
 * this package imports neither platform.
 */
export type PlatformRequest = (IncomingMessage | { readonly raw: IncomingMessage; readonly url: string }) & {
  /** The URL as received, query included (Express `originalUrl`; Fastify's is the URL before `rewriteUrl`). */
  readonly originalUrl?: string;
  /** Set by `KeywardGuard`: the authenticated caller. */
  auth?: Principal;
};

/** The part of a FastifyReply keyward uses: `raw` is Node's `ServerResponse`. */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  headers(headers: ResponseHeaders): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}
