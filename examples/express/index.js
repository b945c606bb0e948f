'use strict';
/**
 * `npm start`: runs the Express example on the in-memory store (Redis when REDIS_URL is set, PostgreSQL when DATABASE_URL is set), creates a demo key with `docs:read`,
 * and prints it with a curl line. PORT (default 3000) and HOST (default 127.0.0.1) are read from the environment.
 */
const { createApp } = require('./app');
const { distributedOptions } = require('../distributed');

async function main() {
  const distributed = await distributedOptions(); // Redis when REDIS_URL is set, PostgreSQL when DATABASE_URL is set
  const { app, keyward } = createApp({ options: { publicPaths: ['/health'], ...distributed.options } });
  distributed.attach(keyward);
  const { key, record } = await keyward.keys.create({ owner: 'demo', name: 'demo key', scopes: ['docs:read'], env: 'test' });
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  const server = app.listen(port, host, () => {
    const base = `http://${host}:${server.address().port}`;
    console.log(`keyward example (Express) listening on ${base} (${distributed.describe})`);
    console.log(`demo key (${record.id}, scopes: docs:read), shown once:\n  ${key}`);
    console.log(`try:\n  curl -i -H "X-API-Key: ${key}" ${base}/v1/docs`);
    console.log(`  curl -i ${base}/v1/docs                      # 401, no key`);
    console.log(`  curl -i -X POST -H "X-API-Key: ${key}" ${base}/v1/docs   # 403, needs docs:write`);
  });
  const stop = () => server.close(() => keyward.close().then(() => distributed.close()).then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`keyward example failed to start: ${err && err.message}`);
  process.exit(1);
});
