'use strict';
// The example's pipeline with monitoring on: in-memory per-key metrics, anomaly detection (judging every request
// after a zero warm-up), and the Prometheus exporter counting every event.
const { createApp } = require('../../examples/express/app');
const { createPrometheusExporter } = require('@keyward/monitoring');
const { serve } = require('../lib/serve');

(async () => {
  const { app, keyward } = createApp({
    options: {
      publicPaths: ['/health'],
      metrics: true,
      anomalies: { warmup: 0, warmupRequests: 0, minRate: 1_000_000_000, minBytes: 1_000_000_000_000, errorBurst: 1_000_000_000, authFailureBurst: 1_000_000_000, maxAddresses: 4096 },
    },
  });
  const exporter = createPrometheusExporter({ keyward });
  app.get('/metrics', async (_req, res) => res.type('text/plain').send(await exporter.metrics()));
  const { key } = await keyward.keys.create({ owner: 'bench', scopes: ['docs:read'] });
  serve(app, { path: '/v1/docs', headers: { 'x-api-key': key } });
})();
