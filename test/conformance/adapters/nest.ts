import 'reflect-metadata';
import { Catch, Controller, Delete, type ArgumentsHost, type ExceptionFilter, Get, Module, Options, Post, Put, Req, RequestMethod, Res, type INestApplication, type MiddlewareConsumer, type NestModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import { Auth, Cost, endpoint, KeywardGuard, KeywardModule, Scopes } from '@keyward/nest';
import type { Principal } from '@keyward/core';
import { listen, routeBody, type AdapterUnderTest, type AppSpec, type RunningApp } from '../harness';

const METHODS = { GET: Get, POST: Post, PUT: Put, DELETE: Delete, OPTIONS: Options } as const;

/** What differs between Nest's platforms in the conformance app: how the app is created, and how a handler answers. */
export interface NestPlatform<R> {
  readonly name: string;
  /** Creates and initializes the application of `module` (with `rawBody: true`, as the README recommends). */
  create(module: Type): Promise<INestApplication>;
  /** Answers with the platform's response API: 204 without a body (a preflight), or `body` as `type`. */
  reply(res: R, answer?: { type: 'application/json' | 'text/plain'; body: string }): void;
  /** Answers an error with the platform's response API, as a user's exception filter does: `status` and `body` as JSON. */
  fail(res: R, status: number, body: unknown): void;
  /** Listens with the app's server (default: an HTTP/1 server, `listen`). */
  listen?(server: never): Promise<RunningApp>;
}

/** Builds a controller with one handler per route, decorated as a user would (`@Get`, `@Scopes`, `@Cost`, `@Auth`). */
function controllerFor<R>(spec: AppSpec, platform: NestPlatform<R>) {
  class ConformanceController {}
  const proto = ConformanceController.prototype as unknown as Record<string, unknown>;
  spec.routes.forEach((r, i) => {
    const name = `route${i}`;
    // `originalUrl` is the URL as received on both platforms (a FastifyRequest has it too).
    proto[name] = (principal: Principal | undefined, req: { originalUrl: string }, res: R) => {
      if (r.fails) throw new Error('boom');
      if (r.method === 'OPTIONS') return platform.reply(res);
      const url = new URL(req.originalUrl, 'http://x');
      platform.reply(res, { type: url.searchParams.get('size') ? 'text/plain' : 'application/json', body: routeBody(principal, url.searchParams) });
    };
    const decorators: MethodDecorator[] = [METHODS[r.method](r.path)];
    if (r.scopes !== undefined) decorators.push(Scopes(...(typeof r.scopes === 'string' ? [r.scopes] : r.scopes)));
    if (r.cost !== undefined) decorators.push(Cost(r.cost));
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
    Reflect.decorate(decorators, proto, name, descriptor);
    Auth()(proto, name, 0);
    Req()(proto, name, 1);
    Res()(proto, name, 2);
  });
  Controller()(ConformanceController);
  return ConformanceController;
}

/** The application's own catch-all filter (`@Catch()`), answering 500 `{"error":"mine"}`. */
function catchAll<R>(platform: NestPlatform<R>): ExceptionFilter {
  class MineFilter implements ExceptionFilter {
    catch(_error: unknown, host: ArgumentsHost) {
      platform.fail(host.switchToHttp().getResponse<R>(), 500, { error: 'mine' });
    }
  }
  Catch()(MineFilter);
  return new MineFilter();
}

/**
 * The conformance app on NestJS 11, on one platform: `KeywardModule.forRoot(instance)`, `KeywardGuard` as
 * `APP_GUARD`, route requirements from `@Scopes()` / `@Cost()`, core endpoints served by `endpoint()` middleware.
 */
export function nestAdapterOn<R>(platform: NestPlatform<R>): AdapterUnderTest {
  return {
    name: platform.name,
    async start(spec) {
      class ConformanceModule implements NestModule {
        configure(consumer: MiddlewareConsumer) {
          for (const e of spec.endpoints ?? []) consumer.apply(endpoint(e.handler)).forRoutes({ path: e.path, method: RequestMethod[e.method] });
        }
      }
      Module({
        imports: [KeywardModule.forRoot(spec.keyward)],
        controllers: [controllerFor(spec, platform)],
        providers: [{ provide: APP_GUARD, useClass: KeywardGuard }, ...(spec.userErrorHandler ? [{ provide: APP_FILTER, useValue: catchAll(platform) }] : [])],
      })(ConformanceModule);
      const app = await platform.create(ConformanceModule);
      const running = await (platform.listen ?? listen)(app.getHttpServer() as never);
      return { ...running, close: async () => { await running.close(); await app.close(); } };
    },
  };
}

/** The conformance app on NestJS 11's Express platform (`@nestjs/platform-express`). */
export const nestAdapter = nestAdapterOn<Response>({
  name: 'nest',
  async create(module) {
    const app = await NestFactory.create(module, { logger: false, rawBody: true });
    return app.init();
  },
  reply: (res, answer) => void (answer ? res.type(answer.type).send(answer.body) : res.status(204).end()),
  fail: (res, status, body) => void res.status(status).json(body),
});
