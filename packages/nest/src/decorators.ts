import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { compileRequirements, compileScopeArgs, type CompiledScopes, type Principal } from '@keyward/core';
import { COST_METADATA, PUBLIC_METADATA, SCOPES_METADATA } from './tokens';

/**
 * Scopes a handler or a controller needs: scope names (all required) or one expression such as
 * `'(docs:read OR docs:write) AND users:view'`. Parsed once, when the class is decorated; a handler's `@Scopes`
 * overrides its controller's.
 *
 * @example
 * ```ts
 * @Get('docs') @Scopes('docs:read') list(@Auth() caller: Principal) { … }
 * ```
 * @throws TypeError at start-up for an invalid scope or expression
 */
export const Scopes = (...scopes: (string | CompiledScopes)[]): ClassDecorator & MethodDecorator => SetMetadata(SCOPES_METADATA, compileScopeArgs(scopes));

/**
 * Marks a handler or controller as needing no credential: `KeywardGuard` lets it through without a check. A handler's
 * own `@Scopes()` wins over its controller's `@Public()`, and a controller's own `@Scopes()` over a base class's.
 */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_METADATA, true);

/**
 * The weighted cost of a handler (or every handler of a controller) for rate limits (default 1).
 *
 * @throws TypeError at start-up when `cost` is not a non-negative number
 */
export const Cost = (cost: number): ClassDecorator & MethodDecorator => SetMetadata(COST_METADATA, compileRequirements({ cost }).cost);

/**
 * The authenticated caller (`Principal`), or `undefined` on a `@Public()` route, a public path or a preflight, and in
 * any context other than HTTP (RPC, WebSockets, GraphQL), which `KeywardGuard` does not authenticate.
 *
 * @example
 * ```ts
 * @Get('me') me(@Auth() caller: Principal) { return { id: caller.id }; }
 * ```
 */
export const Auth = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal | undefined =>
  // The request, without switchToHttp()'s closures. Elsewhere the first argument is what the client sent (an RPC
  // payload, a WebSocket client) or a GraphQL parent object: its `auth` field is no caller.
  ctx.getType() === 'http' ? ctx.getArgByIndex<{ auth?: Principal } | undefined>(0)?.auth : undefined,
);
