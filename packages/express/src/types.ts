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

/**
 * Forgets a request's decision once its response has finished. Express keeps every request object alive through the
 * next young-generation collection (it changes each request's prototype), and whatever a WeakMap holds for it then is
 * promoted to the old generation with it: an entry left behind made each request cost ~10,000 more instructions in
 * the garbage collector (`bench/instructions.js`).
 */
export function releaseDecision(req: Request): void {
  decisions.delete(req);
}

/** The decision `apiKeyAuth()` made for this request, while the request is being handled (until its response has finished). */
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
