import type { AllowDecision, Keyward, Principal } from '@keyward/core';

/** Where the adapter keeps the decision on the request, for `requireScopes`. */
export const DECISION = Symbol.for('keyward.express.decision');

/** What `apiKeyAuth()` leaves on the request for `requireScopes()`. */
export interface DecisionSlot {
  readonly decision: AllowDecision;
  readonly keyward: Keyward;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The authenticated caller, set by `apiKeyAuth()`; `undefined` on public paths and preflights. */
      auth?: Principal;
      /** @internal the core's decision for this request */
      [DECISION]?: DecisionSlot;
    }
  }
}
