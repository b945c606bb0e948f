'use strict';
// The floor for Nest: the keyward example's controller with a global guard that only sets `req.auth` and returns
// true, and a parameter decorator reading it, as KeywardGuard and @Auth() sit. What Nest itself charges for a guard
// and a custom parameter; no guard-based library can cost less.
const { createParamDecorator } = require('@nestjs/common');
const { APP_GUARD } = require('@nestjs/core');
const { serveDocs } = require('./nest-docs');
const { STAND_IN_CALLER } = require('../lib/caller');
const { attach } = require('../lib/request-slot');

const principal = Object.freeze({ id: STAND_IN_CALLER });
class FloorGuard {
  canActivate(context) {
    attach(context.switchToHttp().getRequest(), principal); // req.auth as cheaply as keyward sets it (lib/request-slot.js)
    return true;
  }
}
const Auth = createParamDecorator((_data, ctx) => ctx.switchToHttp().getRequest().auth);

serveDocs({ providers: [{ provide: APP_GUARD, useClass: FloorGuard }], caller: Auth() });
