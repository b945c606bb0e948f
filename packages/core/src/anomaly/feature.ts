import type { Feature } from '../pipeline/context';
import type { FeatureFactory } from '../features/registry';
import { AnomalyDetector } from './detector';
import { parseAnomalyOptions, type CountryLookup } from './options';

/** The anomaly-detection feature (`kw.features.get('anomalies')`). */
export interface AnomalyFeature extends Feature {
  readonly name: 'anomalies';
  readonly detector: AnomalyDetector;
}

function restrictionsLookup(options: object): CountryLookup | undefined {
  const r = (options as { restrictions?: { countryLookup?: unknown } }).restrictions;
  const top = (options as { countryLookup?: unknown }).countryLookup;
  const f = (r && typeof r === 'object' ? r.countryLookup : undefined) ?? top;
  return typeof f === 'function' ? (f as CountryLookup) : undefined;
}

/**
 * Builds the anomaly detector when the `anomalies` option is set. Country look-ups use `anomalies.countryLookup`,
 * else the restrictions' `countryLookup` when one is configured.
 */
export const anomalyFeature: FeatureFactory = (options, deps): AnomalyFeature | undefined => {
  if (options.anomalies === undefined || options.anomalies === false) return undefined;
  const detector = new AnomalyDetector(parseAnomalyOptions(options.anomalies, restrictionsLookup(options)), { events: deps.events, keys: deps.keys, clock: deps.clock });
  const off = deps.events.on('*', (event) => detector.observe(event));
  return {
    name: 'anomalies',
    detector,
    async close() {
      off();
      await detector.settled();
    },
  };
};
