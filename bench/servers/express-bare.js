'use strict';
// Bare Express 5: the keyward example's app without keyward — the same routes in the same order and the same body,
// no authentication, no scope checks. The ratio then measures keyward alone.
const express = require('express');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const app = express();
app.disable('x-powered-by');
app.get('/health', (_req, res) => res.json({ ok: true }));
app.get('/v1/docs', (_req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: STAND_IN_CALLER }));
app.post('/v1/docs', (_req, res) => res.status(201).json({ created: true }));
app.get('/v1/users', (_req, res) => res.json({ users: [] }));
serve(app, { path: '/v1/docs' });
