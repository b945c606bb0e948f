import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { KeywardGuard, KeywardModule, type Keyward, type KeywardOptions } from '@keyward/nest';
import { DocsController } from './docs.controller';

/**
 * The example application: one keyward instance for the whole app (in-memory by default), `KeywardGuard` on every
 * route, `@Public()` / `@Scopes()` on the handlers. A factory so tests and the benchmark drive the very same app.
 */
export function appModule(keyward: KeywardOptions | Keyward = {}): DynamicModule {
  @Module({})
  class AppModule {}
  return {
    module: AppModule,
    imports: [KeywardModule.forRoot(keyward)],
    controllers: [DocsController],
    providers: [{ provide: APP_GUARD, useClass: KeywardGuard }],
  };
}
