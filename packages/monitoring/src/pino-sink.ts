import { EVENT_TYPES, fieldsOf, optionObject, refuseUnknownInput, type KeywardEvent, type KeywardEventType } from '@keyward/core';
import { checkRedact, createSanitizer, redactWithSource, type RedactOptions, type SinkSource } from './sanitize';
import { parseTypes, subscribeTo } from './subscribe';

/** The part of a pino logger the sink uses (pino ≥ 8, or anything with the same methods). */
export interface PinoLike {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Log level of an event. */
export type SinkLevel = 'debug' | 'info' | 'warn' | 'error';
const SINK_LEVELS: readonly SinkLevel[] = ['debug', 'info', 'warn', 'error'];

/** Options of {@link pinoSink}. */
export interface PinoSinkOptions {
  /**
   * The instance to subscribe to; omit to call `write` yourself. The header and query parameter it reads credentials
   * from (its `header` and `queryParam` options) are redacted in `write`'s extra data as `redact` names are.
   */
  keyward?: SinkSource;
  /** The pino logger (e.g. `pino()` or `logger.child({ component: 'keyward' })`). */
  logger: PinoLike;
  /** Event types to log (default all). */
  types?: readonly KeywardEventType[];
  /** Level per event type (defaults: failures and denials `warn`, anomalies and suspensions `warn`, store errors `error`, the rest `info`). */
  levels?: Partial<Record<KeywardEventType, SinkLevel>>;
  /** More names to redact. */
  redact?: RedactOptions;
}

/** Every field of {@link PinoSinkOptions}: a misspelt `redact` must not let a secret reach the log. */
const OPTIONS = fieldsOf<PinoSinkOptions>({ keyward: true, logger: true, types: true, levels: true, redact: true });

/** A log sink. */
export interface EventSink {
  /** Writes one event, with optional extra request data (headers, url…), which is redacted too. */
  write(event: KeywardEvent, extra?: Record<string, unknown>): void;
  /** Stops listening; a JSON-lines sink first hands the lines it holds to its stream (and closes a stream it opened). */
  close(): Promise<void>;
}

const DEFAULT_LEVELS: Partial<Record<KeywardEventType, SinkLevel>> = {
  'auth.failed': 'warn',
  'access.denied': 'warn',
  'auth.blocked': 'warn',
  'anomaly.detected': 'warn',
  'key.suspended': 'warn',
  'key.revoked': 'warn',
  'audit.dropped': 'warn',
  'store.error': 'error',
};

/**
 * Writes keyward's events as structured pino lines: `{ event: { type, keyId, status, … } }` with the event type as
 * the message. Everything is passed through {@link sanitize}, so even extra request data given to `write` cannot
 * leak a credential header or query parameter.
 *
 * @example
 * ```ts
 * pinoSink({ keyward: kw, logger: pino(), types: ['auth.failed', 'anomaly.detected', 'key.revoked'] });
 * ```
 */
export function pinoSink(options: PinoSinkOptions): EventSink {
  refuseUnknownInput(options, OPTIONS, 'pinoSink()');
  const logger = options.logger;
  if (!logger || typeof logger.info !== 'function' || typeof logger.warn !== 'function') throw new TypeError('keyward: option "logger" must be a pino logger');
  const types = parseTypes(options.types);
  if (options.levels !== undefined) {
    for (const [type, level] of Object.entries(optionObject(options.levels, 'levels', EVENT_TYPES))) {
      // A level pino does not have would throw at the first event of that type, inside a listener: its lines lost.
      if (level !== undefined && !SINK_LEVELS.includes(level as SinkLevel)) throw new TypeError(`keyward: option "levels.${type}" must be one of ${SINK_LEVELS.join(', ')}`);
    }
  }
  checkRedact(options.redact);
  const clean = createSanitizer(redactWithSource(options.redact, options.keyward)); // its name sets built once, not per line
  const levels = { ...DEFAULT_LEVELS, ...options.levels };
  // A level the logger has no method for would throw at the first event of that type, inside a listener: its lines lost.
  for (const type of types ?? EVENT_TYPES) {
    const level = levels[type] ?? 'info';
    if (typeof logger[level] !== 'function') throw new TypeError(`keyward: option "logger" must be a pino logger: it has no ${level}() method`);
  }
  const write = (event: KeywardEvent, extra?: Record<string, unknown>) => {
    if (types && !types.has(event.type)) return;
    const level = levels[event.type] ?? 'info';
    const fields = clean(extra ? { event, request: extra } : { event }) as object;
    logger[level](fields, event.type);
  };
  const off = subscribeTo(options.keyward, types, (e) => write(e));
  return {
    write,
    async close() {
      off?.();
    },
  };
}
