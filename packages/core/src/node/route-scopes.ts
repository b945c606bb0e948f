import type { AllowDecision, DenyDecision } from '../model';
import type { CompiledScopes } from '../scopes/match';
import type { Keyward } from '../keyward';
import { KeywardError } from '../errors';

/** What an adapter's `apiKeyAuth()` keeps per request for its route-level `requireScopes()`. */
export interface DecisionSlot {
  readonly decision: AllowDecision;
  readonly keyward: Keyward;
}

/**
 * The route-level scope check every adapter's `requireScopes()` performs: `undefined` when the caller holds the
 * scopes, the 403 (or, on a public path, 401) denial otherwise.
 *
 * @throws KeywardError `NOT_AUTHENTICATED` when `apiKeyAuth()` did not run before it (a mounting mistake, handed to the
 * framework's error handling)
 */
export function authorizeRoute(slot: DecisionSlot | undefined, scopes: CompiledScopes): DenyDecision | undefined {
  if (!slot) throw new KeywardError('NOT_AUTHENTICATED', 'requireScopes() runs after apiKeyAuth(); mount apiKeyAuth() first');
  return slot.keyward.authorize(slot.decision, scopes);
}

/**
 * Whether a mount of `keyward` meets a request that another mount of the same instance already let through (an
 * app-level `apiKeyAuth()`, then one with scopes on a route): such a request is not decided again, so its limits,
 * events and completion count once, and only this mount's `scopes` are checked against the first decision, as
 * `requireScopes()` checks them (this mount's `cost` is not counted). Returns `false` when the request must be decided
 * as usual (no earlier decision, another instance's, or a public path's), else the scope denial or `undefined`.
 */
export function decidedBefore(slot: DecisionSlot | undefined, keyward: Keyward, scopes: CompiledScopes | undefined): DenyDecision | undefined | false {
  if (slot === undefined || slot.keyward !== keyward || slot.decision.skipped) return false;
  return scopes === undefined ? undefined : keyward.authorize(slot.decision, scopes);
}
