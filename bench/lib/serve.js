'use strict';
/**
 * Used by bench server scripts (run as child processes): listen on an ephemeral loopback port, then print one JSON
 * line `{ "port": N, "headers": {...}, "path": "/..." }` that tells the runner where and how to send requests.
 */
const http = require('node:http');

/**
 * @param {import('node:http').RequestListener | import('node:http').Server} appOrServer
 * @param {{ headers?: Record<string,string>, path?: string, method?: string, body?: string }} request
 */
function serve(appOrServer, request = {}) {
  const server = appOrServer instanceof http.Server ? appOrServer : http.createServer(appOrServer);
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: server.address().port, headers: request.headers || {}, path: request.path || '/', method: request.method || 'GET', body: request.body }) + '\n');
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  return server;
}

module.exports = { serve };
