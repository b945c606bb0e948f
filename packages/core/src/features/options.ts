import type { KeyLifecycleOptions } from '../keys/policy';
import type { MetricsFeatureOptions } from '../metrics/options';
import type { AnomalyFeatureOptions } from '../anomaly/options';
import type { LimitsFeatureOptions } from '../limits/types';
import type { AddressOptions } from '../pipeline/address';
import type { RestrictionsOptions } from '../restrictions/types';
import type { TokenOptions } from '../tokens/options';

/**
 * Options contributed by the optional capabilities (tokens, limits, restrictions, monitoring). Each capability
 * declares its own interface in its folder and adds it here.
 */
export interface FeatureOptions extends KeyLifecycleOptions, MetricsFeatureOptions, AnomalyFeatureOptions, LimitsFeatureOptions, AddressOptions, RestrictionsOptions {
  /** JWT verification, issuing, the client-credentials exchange and revocation (see `TokenOptions`). */
  tokens?: TokenOptions;
}
