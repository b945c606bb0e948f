'use strict';
// The keyward example's controller for the Nest bench servers: the same routes and bodies, built with or without a
// guard and a parameter decorator on `GET /v1/docs`, and served like every bench server.
require('reflect-metadata');
const { Controller, Get, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');

/**
 * @param {{ providers?: unknown[], caller?: (target: object, name: string, index: number) => void }} options
 *   `providers` of the module (a global guard), `caller` a parameter decorator giving `list` its caller.
 */
async function serveDocs({ providers = [], caller } = {}) {
  class DocsController {
    health() {
      return { ok: true };
    }
    list(principal) {
      return { docs: [{ id: 1, title: 'Hello' }], caller: principal ? principal.id : STAND_IN_CALLER };
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
  if (caller) caller(DocsController.prototype, 'list', 0);
  route([Post('v1/docs'), HttpCode(201)], 'create');
  route([Get('v1/users')], 'users');
  Controller()(DocsController);
  class AppModule {}
  Module({ controllers: [DocsController], providers })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.init();
  serve(app.getHttpServer(), { path: '/v1/docs' });
}

module.exports = { serveDocs };
