import { EVENT_SCHEMA, EVENT_TYPES, isEventType, unknownEventType, type EventInput, type EventListener, type KeywardEvent, type KeywardEventType } from './schema';
import type { Clock } from '../util/clock';
import { channel, type Channel } from 'node:diagnostics_channel';

/**
 * Every event of every instance is also published on this diagnostics channel (only when someone subscribes), so a
 * process-wide observer — the test suite's leak guard, an APM agent — sees them without holding the instance.
 */
export const EVENTS_CHANNEL = channel('keyward:events');

/** Per event type, whether anyone listens to it: one boolean for every type, so every such object has one shape. */
type Wanted = Readonly<Record<KeywardEventType, boolean>>;

/**
 * Built by `Object.fromEntries`, which gives V8's fast properties (a shape shared by every such object, so a read is
 * one load); adding 22 properties one by one to `{}` turned the object into a dictionary.
 */
function wantedBy(listeners: ReadonlyMap<KeywardEventType | '*', ReadonlySet<EventListener>>): Wanted {
  const all = (listeners.get('*')?.size ?? 0) > 0;
  return Object.fromEntries(EVENT_TYPES.map((type) => [type, all || (listeners.get(type)?.size ?? 0) > 0])) as Wanted;
}

/**
 * Delivers events to subscribers off the request path: `emit` queues, a `setImmediate` flushes in batches.
 * A listener that throws is isolated (reported through `onListenerError`).
 */
export class EventBus {
  private readonly listeners = new Map<KeywardEventType | '*', Set<EventListener>>();
  /** Per event type, its listeners followed by the `'*'` ones, rebuilt on every (un)subscribe: delivery reads one array. */
  private readonly targets = new Map<KeywardEventType, readonly EventListener[]>();
  private queue: KeywardEvent[] = [];
  private scheduled = false;
  private listenerCount = 0;
  private wanted: Wanted;

  /**
   * @param clock - the instance's clock, for event times
   * @param onListenerError - told when a listener throws or rejects
   * @param channel - where every event is also published when it has subscribers (the process-wide
   *   {@link EVENTS_CHANNEL}; a test may pass a channel of its own)
   */
  constructor(
    private readonly clock: Clock,
    private readonly onListenerError: (error: unknown) => void = () => {},
    private readonly channel: Channel = EVENTS_CHANNEL,
  ) {
    this.wanted = wantedBy(this.listeners);
  }

  /** True when anyone listens to any event; producers may skip building events otherwise. */
  get active(): boolean {
    return this.listenerCount > 0 || this.channel.hasSubscribers;
  }

  /**
   * True when an event of `type` would reach anyone: a listener of that type or of `'*'`, or a subscriber of the
   * channel. The request path asks it before building an event or tracking a response for one, so an instance whose
   * only listener wants, say, `auth.failed` (an alerting sink) pays nothing for the requests that succeed.
   */
  wants(type: KeywardEventType): boolean {
    return this.wanted[type] || this.channel.hasSubscribers;
  }

  /**
   * Per event type, whether a listener of it or of `'*'` exists (the channel aside: see {@link EventBus.broadcasting}).
   * For the request path, which reads it with a constant type at each site: one `wants(type)` shared by every site
   * sees many keys, and V8 then makes its property read megamorphic (~150 instructions a call on Koa).
   */
  get listened(): Readonly<Record<KeywardEventType, boolean>> {
    return this.wanted;
  }

  /** True while the channel has a subscriber, which wants every event. */
  get broadcasting(): boolean {
    return this.channel.hasSubscribers;
  }

  /**
   * Subscribes to one event type, or `'*'` for all. Returns the unsubscribe function.
   *
   * @throws TypeError for an unknown event type or a listener that is not a function
   */
  on(type: KeywardEventType | '*', listener: EventListener): () => void {
    if (type !== '*' && !isEventType(type)) throw new TypeError(`keyward: ${unknownEventType(type, true)}`);
    if (typeof listener !== 'function') throw new TypeError('keyward: an event listener must be a function');
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    if (!set.has(listener)) {
      set.add(listener);
      this.changed(1);
    }
    return () => {
      if (set!.delete(listener)) this.changed(-1);
    };
  }

  /** After a listener came or went: the count, and what depends on who listens. */
  private changed(by: number): void {
    this.listenerCount += by;
    this.targets.clear();
    this.wanted = wantedBy(this.listeners);
  }

  /** Queues an event for delivery. Cheap when nobody wants its type. */
  emit(input: EventInput): void {
    if (!this.wants(input.type)) return;
    this.publish({ schema: EVENT_SCHEMA, time: input.time ?? this.now(), ...input } as KeywardEvent);
  }

  /**
   * Queues an event that is already complete (`schema` and `time` set): the request path builds its events in one
   * object literal each and hands them here, so no event is copied on the way.
   */
  publish(event: KeywardEvent): void {
    if (this.channel.hasSubscribers) this.channel.publish(event);
    if (this.listenerCount === 0) return;
    this.queue.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  private readonly flushNow = () => this.flush();
  private lastMs = NaN;
  private lastSecond = NaN;
  private secondPrefix = '';
  private lastIso = '';

  /**
   * The clock as ISO 8601 with milliseconds. The date part is formatted once per second and the milliseconds
   * appended, so the request path never builds a `Date`.
   */
  now(): string {
    return this.at(this.clock());
  }

  /** `ms` (since the epoch) as ISO 8601, with the same once-per-second formatting as {@link EventBus.now}. */
  at(ms: number): string {
    if (ms === this.lastMs) return this.lastIso;
    this.lastMs = ms;
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.secondPrefix = new Date(second * 1000).toISOString().slice(0, -4); // "…T12:00:00." (years beyond 9999 too)
    }
    const milli = whole - second * 1000;
    this.lastIso = this.secondPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
    return this.lastIso;
  }

  /** Delivers everything queued now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      this.deliver(this.targets.get(event.type) ?? this.targetsOf(event.type), event);
    }
  }

  /** Resolves once every queued event has been handed to listeners. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The listeners of `type`, then the `'*'` ones, as one array (cached until the next (un)subscribe). */
  private targetsOf(type: KeywardEventType): readonly EventListener[] {
    const list = [...(this.listeners.get(type) ?? []), ...(this.listeners.get('*') ?? [])];
    this.targets.set(type, list);
    return list;
  }

  private deliver(listeners: readonly EventListener[], event: KeywardEvent): void {
    for (let i = 0; i < listeners.length; i++) {
      const listener = listeners[i]!;
      try {
        const r = listener(event);
        if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, this.onListenerError);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
