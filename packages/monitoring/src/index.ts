/**
 * `@keyward/monitoring`: Prometheus exporter, pino and JSON-lines audit sinks, signed webhook alerts and per-key
 * metrics aggregated in Redis.
 *
 * @packageDocumentation
 */
export { createPrometheusExporter, type PrometheusExporter, type PrometheusExporterOptions } from './prometheus';
export { defaultRouteNormaliser, boundedRoutes, type RouteNormaliser } from './route';
export { pinoSink, type PinoSinkOptions, type PinoLike, type SinkLevel, type EventSink } from './pino-sink';
export { jsonLinesSink, type JsonLinesSink, type JsonLinesSinkOptions } from './json-lines-sink';
export { sanitize, type RedactOptions } from './sanitize';
export { webhookSink, DEFAULT_WEBHOOK_EVENTS, type WebhookSink, type WebhookSinkOptions, type WebhookStats } from './webhook-sink';
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER, type VerifyWebhookInput } from './signature';
export { createRedisMetrics, type RedisMetrics, type RedisMetricsOptions, type RedisMetricsClient, type RedisMetricsPipeline } from './redis-metrics';
