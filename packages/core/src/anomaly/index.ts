export { AnomalyDetector, type AnomalyDetectorDeps, type AnomalyFootprint } from './detector';
export { anomalyFeature, type AnomalyFeature } from './feature';
export { parseAnomalyOptions, ANOMALY_KINDS, type AnomalyKind, type AnomalyOptions, type AnomalyConfig, type CountryLookup } from './options';
