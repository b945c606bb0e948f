'use strict';
// The floor for Express: the keyward example's app shape with authentication that does nothing — one app-level
// middleware setting `req.auth` and one route-level middleware calling `next()`, as apiKeyAuth() and
// requireScopes() sit. What Express itself charges for two more layers; no library can cost less. `req.auth` is set
// as keyward sets it (lib/request-slot.js), the cheapest way.
const express = require('express');
const { serve } = require('../lib/serve');
const { STAND_IN_CALLER } = require('../lib/caller');
const { attach } = require('../lib/request-slot');
const principal = Object.freeze({ id: STAND_IN_CALLER });
const pass = (_req, _res, next) => next();
const app = express();
app.disable('x-powered-by');
app.get('/health', (_req, res) => res.json({ ok: true }));
app.use((req, _res, next) => { attach(req, principal); next(); }); // req.auth as cheaply as keyward sets it
app.get('/v1/docs', pass, (req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: req.auth.id }));
app.post('/v1/docs', pass, (_req, res) => res.status(201).json({ created: true }));
app.get('/v1/users', pass, (_req, res) => res.json({ users: [] }));
serve(app, { path: '/v1/docs' });
