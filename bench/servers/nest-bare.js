'use strict';
// Bare NestJS 11 on Express: the keyward example's controller without keyward — the same routes and body, no guard.
require('reflect-metadata');
const { Controller, Get, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { serve } = require('../lib/serve');

class DocsController {
  health() {
    return { ok: true };
  }
  list() {
    return { docs: [{ id: 1, title: 'Hello' }], caller: 'anonymous' };
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
route([Post('v1/docs'), HttpCode(201)], 'create');
route([Get('v1/users')], 'users');
Controller()(DocsController);
class AppModule {}
Module({ controllers: [DocsController] })(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  serve(app.getHttpServer(), { path: '/v1/docs' });
})();
