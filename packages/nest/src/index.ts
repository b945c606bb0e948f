/**
 * `@keyward/nest`: keyward for NestJS 11, on the Express or the Fastify platform.
 *
 * @packageDocumentation
 */
export { KeywardModule, type KeywardModuleOptions, type KeywardModuleAsyncOptions } from './module';
export { KeywardGuard } from './guard';
export { KeywardException, KeywardExceptionFilter } from './exception';
export { Scopes, Public, Cost, Auth } from './decorators';
export { KEYWARD, InjectKeyward, SCOPES_METADATA, PUBLIC_METADATA, COST_METADATA } from './tokens';
export { endpoint, type EndpointMiddleware } from './endpoint';
export { createKeyward, type Keyward, type KeywardOptions, type Principal } from '@keyward/core';
