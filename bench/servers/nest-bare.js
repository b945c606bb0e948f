'use strict';
// Bare NestJS 11 on Express: the keyward example's controller without keyward — the same routes and body, no guard.
const { serveDocs } = require('./nest-docs');

serveDocs();
