'use strict';
/**
 * `npm start`: runs the Express example on the in-memory store (Redis when REDIS_URL is set, PostgreSQL when
 * DATABASE_URL is set), creates a demo key with `docs:read`, and prints it with a curl line.
 */
const { createApp } = require('./app');
const { main } = require('../run-example');

main({ framework: 'Express', createApp });
