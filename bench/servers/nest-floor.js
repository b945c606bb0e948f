'use strict';
// The floor for Nest: the keyward example's controller with a global guard that only sets `req.auth` and returns
// true, and a parameter decorator reading it, as KeywardGuard and @Auth() sit. What Nest itself charges for a guard
// and a custom parameter; no guard-based library can cost less.
require('reflect-metadata');
const { Controller, Get, HttpCode, Module, Post, createParamDecorator } = require('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core');
const { serve } = require('../lib/serve');

const principal = Object.freeze({ id: 'key_floor' });
class FloorGuard {
  canActivate(context) {
    context.switchToHttp().getRequest().auth = principal;
    return true;
  }
}
const Auth = createParamDecorator((_data, ctx) => ctx.switchToHttp().getRequest().auth);

class DocsController {
  health() {
    return { ok: true };
  }
  list(caller) {
    return { docs: [{ id: 1, title: 'Hello' }], caller: caller.id };
  }
  create() {
    return { created: true };
  }
  users() {
    return { users: [] };
  }
}
const route = (decorators, name) => Reflect.decorate(decorators, DocsController.prototype, name, Object.getOwnPropertyDescriptor(DocsController.prototype, name));
route([Get('health')], 'health');
route([Get('v1/docs')], 'list');
Auth()(DocsController.prototype, 'list', 0);
route([Post('v1/docs'), HttpCode(201)], 'create');
route([Get('v1/users')], 'users');
Controller()(DocsController);
class AppModule {}
Module({ controllers: [DocsController], providers: [{ provide: APP_GUARD, useClass: FloorGuard }] })(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  serve(app.getHttpServer(), { path: '/v1/docs' });
})();
