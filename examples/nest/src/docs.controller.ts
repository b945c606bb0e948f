import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { Auth, Public, Scopes, type Principal } from '@keyward/nest';

/** Public /health, and /v1 routes that need different scopes (the same routes as the Express and Koa examples). */
@Controller()
export class DocsController {
  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }

  @Get('v1/docs')
  @Scopes('docs:read')
  list(@Auth() caller: Principal) {
    return { docs: [{ id: 1, title: 'Hello' }], caller: caller.id };
  }

  @Post('v1/docs')
  @HttpCode(201)
  @Scopes('docs:write')
  create() {
    return { created: true };
  }

  @Get('v1/users')
  @Scopes('(users:read OR admin:*) AND docs:read')
  users() {
    return { users: [] };
  }
}
