import type { Feature } from '../pipeline/context';
import type { FeatureDeps } from './deps';
import type { KeywardOptions } from '../config/options';
import { metricsFeature } from '../metrics/feature';
import { anomalyFeature } from '../anomaly/feature';
import { authFailuresFeature } from '../limits/auth-failures';
import { limitsFeature } from '../limits/feature';
import { loadSheddingFeature } from '../limits/load-shedding';
import { restrictionsFeature } from '../restrictions/feature';
import { tokensFeature } from '../tokens/feature';

/** Builds a feature from the options, or returns `undefined` when it is not configured. */
export type FeatureFactory = (options: KeywardOptions, deps: FeatureDeps) => Feature | undefined;

/**
 * The capabilities, in the order their stages run within a phase. Each capability adds its factory here.
 */
export const FEATURES: readonly FeatureFactory[] = [metricsFeature, anomalyFeature, authFailuresFeature, limitsFeature, loadSheddingFeature, restrictionsFeature, tokensFeature];
