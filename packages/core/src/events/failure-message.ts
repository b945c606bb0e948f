import { redactQuery } from './redact';

/**
 * The message of a client's failure as keyward passes it on, in a `store.error` event, a `STORE_FAILURE` error or the
 * warning for a failing event listener: a client's message may quote what it was given — a URL with its password
 * (`request to https://user:pass@host/… failed`), a connection string's `password=…`, a key — so it is redacted as a
 * URL is ({@link redactQuery}).
 */
export function failureMessage(error: unknown): string {
  return error instanceof Error ? redactQuery(error.message) : 'unknown';
}
