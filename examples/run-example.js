'use strict';
/**
 * Shared start-up of the Express and Koa examples: keyward options from the environment (in-memory by default, Redis
 * when REDIS_URL is set, PostgreSQL when DATABASE_URL is set), a demo key with `docs:read` printed once with curl
 * lines, and a clean stop on SIGINT/SIGTERM. PORT (default 3000) and HOST (default 127.0.0.1) come from the
 * environment.
 */
const { distributedOptions } = require('./distributed');

/**
 * @param {{ framework: string, createApp: (opts: { options: object }) => { app: { listen: Function }, keyward: any } }} example
 */
async function runExample({ framework, createApp }) {
  const distributed = await distributedOptions();
  const { app, keyward } = createApp({ options: { publicPaths: ['/health'], ...distributed.options } });
  distributed.attach(keyward);
  const { key, record } = await keyward.keys.create({ owner: 'demo', name: 'demo key', scopes: ['docs:read'], env: 'test' });
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  const server = app.listen(port, host, () => {
    const base = `http://${host}:${server.address().port}`;
    console.log(`keyward example (${framework}) listening on ${base} (${distributed.describe})`);
    console.log(`demo key (${record.id}, scopes: docs:read), shown once:\n  ${key}`);
    console.log(`try:\n  curl -i -H "X-API-Key: ${key}" ${base}/v1/docs`);
    console.log(`  curl -i ${base}/v1/docs                      # 401, no key`);
    console.log(`  curl -i -X POST -H "X-API-Key: ${key}" ${base}/v1/docs   # 403, needs docs:write`);
  });
  const stop = () => server.close(() => keyward.close().then(() => distributed.close()).then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Runs an example, exiting with one clear line if it cannot start. */
function main(example) {
  runExample(example).catch((err) => {
    console.error(`keyward example failed to start: ${err && err.message}`);
    process.exit(1);
  });
}

module.exports = { runExample, main };
