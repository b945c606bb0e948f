import type { InvalidationChannel, KeyChange } from './invalidation';

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;
/** Ids held for another try at most; past it the oldest goes (its entry has most likely left every cache by then). */
const MAX_PENDING = 100_000;

/**
 * An {@link InvalidationChannel} that does not lose a change it failed to publish. A publish that fails (the channel's
 * connection is down: a blip of Redis) still rejects, so the caller can report it, and its key id is kept and
 * published again, with backoff from 100 ms to 2 s, until it goes through or the channel is closed. Without it, the
 * other instances, connected all along, kept serving a revoked key from their caches for the whole cache TTL.
 * `createKeyward` wraps its `invalidation` option in one and closes it with the instance.
 */
export class RetryingChannel implements InvalidationChannel {
  private readonly pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delayMs = FIRST_RETRY_MS;
  private closed = false;

  /** @param inner - the channel given to `createKeyward` */
  constructor(readonly inner: InvalidationChannel) {}

  /** Ids whose change is waiting to be published again. */
  get waiting(): number {
    return this.pending.size;
  }

  async publish(change: KeyChange): Promise<void> {
    try {
      await this.inner.publish({ id: change.id });
    } catch (error) {
      this.keep(change.id);
      throw error;
    }
    this.pending.delete(change.id);
  }

  subscribe(onChange: (change: KeyChange) => void, onReset: () => void): Promise<() => void> {
    return this.inner.subscribe(onChange, onReset);
  }

  /** Stops retrying; what is still waiting is dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private keep(id: string): void {
    if (this.closed) return;
    this.pending.delete(id); // re-added last: the oldest is the first dropped on overflow
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.values().next().value as string);
    this.pending.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => void this.retry(), this.delayMs);
    this.timer.unref?.();
  }

  private async retry(): Promise<void> {
    for (const id of [...this.pending]) {
      if (this.closed) return;
      try {
        await this.inner.publish({ id });
        this.pending.delete(id);
      } catch {
        this.delayMs = Math.min(this.delayMs * 2, MAX_RETRY_MS);
        this.timer = undefined;
        this.schedule();
        return;
      }
    }
    this.timer = undefined;
    this.delayMs = FIRST_RETRY_MS;
    if (this.pending.size > 0) this.schedule(); // failed publishes made while this pass ran
  }
}
