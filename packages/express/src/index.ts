/**
 * `@keyward/express`: keyward for Express 4 and 5.
 *
 * @packageDocumentation
 */
import './types';
export { apiKeyAuth, type ApiKeyAuthOptions, type KeywardMiddleware } from './api-key-auth';
export { requireScopes } from './require-scopes';
export { endpoint } from './endpoint';
export { decisionOf, type DecisionSlot } from './types';
export { createKeyward, type Keyward, type KeywardOptions, type Principal } from '@keyward/core';
