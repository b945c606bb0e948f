/**
 * `@keyward/koa`: keyward for Koa 3.
 *
 * @packageDocumentation
 */
import './types';
export { apiKeyAuth, type ApiKeyAuthOptions, type KeywardMiddleware } from './api-key-auth';
export { requireScopes } from './require-scopes';
export { endpoint } from './endpoint';
export { DECISION, type DecisionSlot } from './types';
export { createKeyward, type Keyward, type KeywardOptions, type Principal } from '@keyward/core';
