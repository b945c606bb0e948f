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
