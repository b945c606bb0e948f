'use strict';
// Bare NestJS 11 on Express: the same route and body as the keyward example, no guard.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { serve } = require('../lib/serve');

class DocsController {
  list() {
    return { docs: [{ id: 1, title: 'Hello' }], caller: 'anonymous' };
  }
}
Reflect.decorate([Get('v1/docs')], DocsController.prototype, 'list', Object.getOwnPropertyDescriptor(DocsController.prototype, 'list'));
Controller()(DocsController);
class AppModule {}
Module({ controllers: [DocsController] })(AppModule);

(async () => {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  serve(app.getHttpServer(), { path: '/v1/docs' });
})();
