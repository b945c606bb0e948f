'use strict';
/**
 * How the floor and least-check servers attach a principal to a Node request, as cheaply as keyward does
 * (`setRequestAuth` in `@keyward/core`, copied here so these servers do not depend on keyward): `req.auth` is an
 * accessor over a WeakMap, defined once on the framework's request prototype just above `IncomingMessage.prototype`
 * (Express's `request`). Express gives each request a hidden class of its own, and adding an `auth` property to one
 * copies all its descriptors (~25k instructions per request); a floor that paid that would no longer be the least an
 * authentication library can cost. Any other request gets a plain property.
 */
const { IncomingMessage } = require('node:http');

const slots = new WeakMap();
let carrying = null;

function attach(req, principal) {
  const proto = Object.getPrototypeOf(req);
  if (proto !== carrying) {
    let base = null;
    for (let o = proto; o !== null && base === null; o = Object.getPrototypeOf(o)) if (Object.getPrototypeOf(o) === IncomingMessage.prototype) base = o;
    if (base === null) return void (req.auth = principal);
    if (!Object.getOwnPropertyDescriptor(base, 'auth')) {
      Object.defineProperty(base, 'auth', { configurable: true, get() { return slots.get(this); }, set(v) { slots.set(this, v); } });
    }
    carrying = proto;
  }
  slots.set(req, principal);
}

module.exports = { attach };
