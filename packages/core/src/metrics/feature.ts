import type { Feature } from '../pipeline/context';
import type { FeatureFactory } from '../features/registry';
import { MemoryMetrics } from './memory-metrics';
import { parseMetricsOptions } from './options';

/** The metrics feature: the in-memory aggregator subscribed to the audit events. */
export interface MetricsFeature extends Feature {
  readonly name: 'metrics';
  readonly metrics: MemoryMetrics;
}

/** Builds the metrics feature when the `metrics` option is set (exposed as `kw.metrics`). */
export const metricsFeature: FeatureFactory = (options, deps): MetricsFeature | undefined => {
  if (options.metrics === undefined || options.metrics === false) return undefined;
  const metrics = new MemoryMetrics(parseMetricsOptions(options.metrics), deps.clock);
  const off = deps.events.on('*', (event) => metrics.record(event));
  return {
    name: 'metrics',
    metrics,
    close() {
      off();
    },
  };
};
