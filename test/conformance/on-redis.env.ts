/** First set-up file of the "conformance on Redis" Jest project: selects the Redis stores (see `stores.ts`). */
process.env.KEYWARD_CONFORMANCE_STORES = 'redis';
