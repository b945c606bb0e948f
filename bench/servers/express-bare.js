'use strict';
// Bare Express 5: the same route and body as the keyward example, no authentication.
const express = require('express');
const { serve } = require('../lib/serve');
const app = express();
app.disable('x-powered-by');
app.get('/v1/docs', (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: 'anonymous' }));
serve(app, { path: '/v1/docs' });
