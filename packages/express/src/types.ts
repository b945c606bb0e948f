import type { Request } from 'express';
import type { DecisionSlot, Principal } from '@keyward/core';

export type { DecisionSlot };

/**
 * Decisions by request. A WeakMap rather than a property, so authenticating never changes the shape of Express's
 * request objects (which slows every later property access on them) and nothing is left behind.
 */
const decisions = new WeakMap<Request, DecisionSlot>();

/** Records the decision of `apiKeyAuth()` for a request. */
export function setDecision(req: Request, slot: DecisionSlot): void {
  decisions.set(req, slot);
}

/** The decision `apiKeyAuth()` made for this request, if it ran. */
export function decisionOf(req: Request): DecisionSlot | undefined {
  return decisions.get(req);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The authenticated caller, set by `apiKeyAuth()`; `undefined` on public paths and preflights. */
      auth?: Principal;
    }
  }
}
