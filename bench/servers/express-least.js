'use strict';
// The least an API-key check can do, hand-written on the example's app shape: read one header, SHA-256 it (one-shot),
// one Map look-up, the record's status and expiry, the route's scope from a WeakMap. No extraction rules, no audit
// events, no completion tracking, no request id. Where keyward's own cost ends and any key check's begins: what a
// goal asks of keyward beyond this, no implementation can give. Reads go through Reflect.get, as keyward's do (a plain
// read on an Express request misses V8's caches; see README, ninth session).
const express = require('express');
const { serve } = require('../lib/serve');
const { KEY, lookUp } = require('../lib/least-key');
const { attach } = require('../lib/request-slot');

const principals = new WeakMap();
const refuse = (res, status) => { res.statusCode = status; res.end(); };

const app = express();
app.disable('x-powered-by');
app.get('/health', (_req, res) => res.json({ ok: true }));
app.use((req, res, next) => {
  const r = lookUp(Reflect.get(req, 'headers')['x-api-key']);
  if (r === undefined) return refuse(res, 401);
  attach(req, r); // req.auth as cheaply as keyward sets it (lib/request-slot.js)
  principals.set(req, r);
  next();
});
const needs = (scope) => (req, res, next) => {
  const p = principals.get(req);
  if (p === undefined || !p.scopes.has(scope)) return refuse(res, 403);
  next();
};
app.get('/v1/docs', needs('docs:read'), (req, res) => res.json({ docs: [{ id: 1, title: 'Hello' }], caller: req.auth.id }));
serve(app, { path: '/v1/docs', headers: { 'x-api-key': KEY } });
