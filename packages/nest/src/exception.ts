import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ServerResponse } from 'node:http';
import { denialBody, writeDenial, type DenyDecision } from '@keyward/core';
import type { FastifyReplyLike } from './platform';

/**
 * A keyward denial as a Nest `HttpException`: `getStatus()` is the core's status, `getResponse()` its
 * `application/problem+json` body, and `denial` the whole decision (code, headers). Your exception filters can
 * catch it (or `HttpException`) like any other.
 */
export class KeywardException extends HttpException {
  constructor(readonly denial: DenyDecision) {
    super(denial.problem, denial.status);
    this.name = 'KeywardException';
    this.message = `${denial.problem.title} (${denial.code})`;
  }
}

/**
 * Writes a {@link KeywardException} exactly as the core decided: status, headers and the problem body with
 * `Content-Type: application/problem+json` (Nest's default filter would answer `application/json`).
 * `KeywardModule` registers it before the application's own global filters, so a filter of yours that catches
 * `HttpException` still takes precedence. On Fastify the denial is sent through the reply (so Fastify's hooks and
 * logging see it), with the same status, headers and bytes.
 */
@Catch(KeywardException)
export class KeywardExceptionFilter implements ExceptionFilter<KeywardException> {
  catch(exception: KeywardException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse | FastifyReplyLike>();
    const { denial } = exception;
    if (res instanceof ServerResponse) {
      if (res.headersSent) return void res.end();
      return writeDenial(res, denial);
    }
    if (res.raw.headersSent) return void res.raw.end();
    // A Buffer, because Fastify appends "; charset=utf-8" to the Content-Type of a JSON string.
    res.code(denial.status).headers(denial.headers).send(Buffer.from(denialBody(denial)));
  }
}
