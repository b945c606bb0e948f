import type { EventBus } from '../events/bus';
import type { KeyManager } from '../keys/manager';
import type { Clock } from '../util/clock';
import type { ChallengeConfig } from '../denials';
import type { KeyStore } from '../stores/key-store';
import type { AddressResolver } from '../pipeline/address';
import type { AuthRequest } from '../model';

/** What a feature factory may use. */
export interface FeatureDeps {
  readonly clock: Clock;
  readonly events: EventBus;
  readonly keys: KeyManager;
  readonly store: KeyStore;
  readonly challenge: ChallengeConfig;
  readonly resolveAddress: AddressResolver;
  /** The request id of a request handled outside the pipeline (the `requestIdHeader` rule); optional for hand-built deps. */
  readonly requestId?: (request: AuthRequest) => string;
  /** The `storeTimeout` option: the deadline of a remote store's read on the request path (default 500 ms). */
  readonly storeTimeoutMs?: number;
}
