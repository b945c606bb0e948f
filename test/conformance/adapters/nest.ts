import 'reflect-metadata';
import { Controller, Delete, Get, Module, Options, Post, Put, Req, RequestMethod, Res, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Auth, Cost, endpoint, KeywardGuard, KeywardModule, Scopes } from '@keyward/nest';
import type { Principal } from '@keyward/core';
import { listen, routeBody, type AdapterUnderTest, type AppSpec } from '../harness';

const METHODS = { GET: Get, POST: Post, PUT: Put, DELETE: Delete, OPTIONS: Options } as const;

/** Builds a controller with one handler per route, decorated as a user would (`@Get`, `@Scopes`, `@Cost`, `@Auth`). */
function controllerFor(spec: AppSpec) {
  class ConformanceController {}
  const proto = ConformanceController.prototype as unknown as Record<string, unknown>;
  spec.routes.forEach((r, i) => {
    const name = `route${i}`;
    proto[name] = (principal: Principal | undefined, req: Request, res: Response) => {
      if (r.method === 'OPTIONS') return void res.status(204).end();
      const url = new URL(req.originalUrl, 'http://x');
      res.type(url.searchParams.get('size') ? 'text/plain' : 'application/json').send(routeBody(principal, url.searchParams));
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

/**
 * The conformance app on NestJS 11 (Express platform): `KeywardModule.forRoot(instance)`, `KeywardGuard` as
 * `APP_GUARD`, route requirements from `@Scopes()` / `@Cost()`, core endpoints served by `endpoint()` middleware
 * (with `rawBody: true`, as the README recommends, so endpoints see the bytes that were sent).
 */
export const nestAdapter: AdapterUnderTest = {
  name: 'nest',
  async start(spec) {
    class ConformanceModule implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        for (const e of spec.endpoints ?? []) consumer.apply(endpoint(e.handler)).forRoutes({ path: e.path, method: e.method === 'GET' ? RequestMethod.GET : RequestMethod.POST });
      }
    }
    Module({
      imports: [KeywardModule.forRoot(spec.keyward)],
      controllers: [controllerFor(spec)],
      providers: [{ provide: APP_GUARD, useClass: KeywardGuard }],
    })(ConformanceModule);
    const app = await NestFactory.create(ConformanceModule, { logger: false, rawBody: true });
    await app.init();
    const running = await listen(app.getHttpServer());
    return { ...running, close: async () => { await running.close(); await app.close(); } };
  },
};
