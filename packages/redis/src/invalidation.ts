import { fieldsOf, refuseUnknownInput, type InvalidationChannel, type KeyChange } from '@keyward/core';
import type { Cluster, Redis } from 'ioredis';
import { checkClient, checkPrefix, type RedisClient } from './client';

/** Options of {@link RedisInvalidationChannel}. */
export interface RedisInvalidationChannelOptions {
  /** The client to publish with; a dedicated subscriber connection is made from it with `duplicate()`. */
  client: RedisClient;
  /** Channel name (default `keyward:invalidate`). Instances that share keys must share it. */
  channel?: string;
}

/** Every field of {@link RedisInvalidationChannelOptions}: a misspelt `channel` would leave instances deaf to each other. */
const OPTIONS = fieldsOf<RedisInvalidationChannelOptions>({ client: true, channel: true });

/**
 * Cross-instance cache invalidation over Redis pub/sub. Every key change published by one instance drops the cache
 * entry on every other at once; a subscriber that lost its connection drops its whole cache when it is back (it may
 * have missed messages). Bound: a change is seen everywhere within the pub/sub delay while connected, and within the
 * cache TTL (option `cache.ttl` of `createKeyward`, default 5 s) while disconnected.
 *
 * @example
 * ```ts
 * const kw = createKeyward({ store, invalidation: new RedisInvalidationChannel({ client }) });
 * ```
 */
export class RedisInvalidationChannel implements InvalidationChannel {
  private readonly client: RedisClient;
  /** The channel name. */
  readonly channel: string;

  constructor(options: RedisInvalidationChannelOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('keyward: RedisInvalidationChannel takes an options object');
    refuseUnknownInput(options, OPTIONS, 'RedisInvalidationChannel()');
    this.client = checkClient(options.client, 'client');
    this.channel = checkPrefix(options.channel, 'channel', 'keyward:invalidate');
  }

  /** Publishes `{"id":"<key id>"}`: ids only, whatever else `change` holds (a key's hash never goes on the channel). */
  async publish(change: KeyChange): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify({ id: change.id }));
  }

  /**
   * Opens the subscriber connection and resolves at once; the subscription is (re)made on every connect, and
   * `onReset` runs after each one, once the subscription is in place, so nothing published in between is missed.
   */
  async subscribe(onChange: (change: KeyChange) => void, onReset: () => void): Promise<() => void> {
    // ioredis's two duplicate() signatures differ: Redis#duplicate(options), Cluster#duplicate(startupNodes, options).
    // (Options given as the first argument of Cluster#duplicate were silently ignored.) On a Cluster, ioredis keeps
    // one subscriber connection on some node and resubscribes it by itself if that node goes; classic pub/sub
    // messages reach every node, so any node will do.
    const sub: RedisClient = (this.client as Cluster).isCluster === true
      ? (this.client as Cluster).duplicate([], { enableOfflineQueue: true, lazyConnect: true })
      : (this.client as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: false, lazyConnect: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    let closed = false;
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let change: KeyChange | undefined;
      try {
        // An older instance may still send `{ id, hash }`: the id is used, the hash dropped here.
        const parsed = JSON.parse(message) as { id?: unknown } | null;
        if (typeof parsed?.id === 'string') change = { id: parsed.id };
      } catch {
        // a message that is not ours: a reset is the safe answer
      }
      if (change) onChange(change);
      else onReset();
    });
    sub.on('ready', () => {
      if (closed) return;
      sub.subscribe(this.channel).then(
        () => onReset(),
        () => sub.disconnect(true),
      );
    });
    sub.on('error', () => {
      // reported through reconnects; a subscriber error never crashes the process
    });
    sub.connect().catch(() => {
      // ioredis keeps retrying under its retryStrategy
    });
    return () => {
      closed = true;
      sub.disconnect(false);
    };
  }
}
