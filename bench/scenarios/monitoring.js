'use strict';
/** Issue 9: the Express example's pipeline with per-key metrics, anomaly detection and the Prometheus exporter on, against bare Express 5. */
module.exports = {
  name: 'monitoring',
  goal: 0.9,
  baseline: { name: 'bare express', script: 'servers/express-bare.js' },
  subjects: [
    { name: 'keyward express (memory, scope, audit)', script: 'servers/express-keyward.js' },
    { name: 'keyward express + metrics + anomalies + prometheus', script: 'servers/express-monitoring.js', goal: 0.9 },
  ],
};
