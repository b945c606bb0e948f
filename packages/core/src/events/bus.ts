import { EVENT_SCHEMA, type EventInput, type EventListener, type KeywardEvent, type KeywardEventType } from './schema';
import type { Clock } from '../util/clock';
import { channel } from 'node:diagnostics_channel';

/**
 * Every event of every instance is also published on this diagnostics channel (only when someone subscribes), so a
 * process-wide observer — the test suite's leak guard, an APM agent — sees them without holding the instance.
 */
export const EVENTS_CHANNEL = channel('keyward:events');

/**
 * Delivers events to subscribers off the request path: `emit` queues, a `setImmediate` flushes in batches.
 * A listener that throws is isolated (reported through `onListenerError`).
 */
export class EventBus {
  private readonly listeners = new Map<KeywardEventType | '*', Set<EventListener>>();
  private queue: KeywardEvent[] = [];
  private scheduled = false;
  private listenerCount = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onListenerError: (error: unknown) => void = () => {},
  ) {}

  /** True when anyone listens; producers may skip building events otherwise. */
  get active(): boolean {
    return this.listenerCount > 0 || EVENTS_CHANNEL.hasSubscribers;
  }

  /**
   * Subscribes to one event type, or `'*'` for all. Returns the unsubscribe function.
   */
  on(type: KeywardEventType | '*', listener: EventListener): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    if (!set.has(listener)) {
      set.add(listener);
      this.listenerCount++;
    }
    return () => {
      if (set!.delete(listener)) this.listenerCount--;
    };
  }

  /** Queues an event for delivery. Cheap when nobody listens. */
  emit(input: EventInput): void {
    const observed = EVENTS_CHANNEL.hasSubscribers;
    if (this.listenerCount === 0 && !observed) return;
    const event = { schema: EVENT_SCHEMA, time: input.time ?? this.isoNow(), ...input } as KeywardEvent;
    if (observed) EVENTS_CHANNEL.publish(event);
    if (this.listenerCount === 0) return;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private lastMs = -1;
  private lastIso = '';

  /** The clock as ISO 8601, formatted once per millisecond. */
  private isoNow(): string {
    const ms = this.clock();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /** Delivers everything queued now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) {
      this.deliver(this.listeners.get(event.type), event);
      this.deliver(this.listeners.get('*'), event);
    }
  }

  /** Resolves once every queued event has been handed to listeners. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private deliver(set: Set<EventListener> | undefined, event: KeywardEvent): void {
    if (!set) return;
    for (const listener of set) {
      try {
        const r = listener(event);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, this.onListenerError);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
