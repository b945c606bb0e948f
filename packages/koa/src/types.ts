import type { Context } from 'koa';
import { denialBody, type DecisionSlot, type DenyDecision, type Principal } from '@keyward/core';

/** Where `apiKeyAuth()` keeps the decision in `ctx.state`, for `requireScopes()`. */
export const DECISION = Symbol.for('keyward.koa.decision');

export type { DecisionSlot };

declare module 'koa' {
  interface DefaultState {
    /** The authenticated caller, set by `apiKeyAuth()`; `undefined` on public paths and preflights. */
    auth?: Principal;
    /** @internal the core's decision for this request */
    [DECISION]?: DecisionSlot;
  }
}

/**
 * Answers a denial through Koa's own response API (status, headers, body), so Koa's error handling never turns it
 * into a 500 and downstream middleware does not run.
 */
export function respondDenial(ctx: Context, denial: DenyDecision): void {
  ctx.status = denial.status;
  ctx.set(denial.headers);
  ctx.body = denialBody(denial);
}
