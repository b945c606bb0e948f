import { KeywardError } from '../errors';
import { failureMessage } from '../events/failure-message';
import { redactQuery } from '../events/redact';

/**
 * A key store's failure as keyward reports it: a {@link KeywardError} (`STORE_FAILURE`) with the client's message,
 * and as its `cause` only the client error's name, message and code. Clients attach what they ran to their errors
 * (ioredis's `command.args` holds every key and argument of the command: a key's hash, its record's fields), and an
 * error logged whole would then put a key hash in a log line. A `KeywardError` (a conflict, a timeout) and a
 * `TypeError` (an argument the store refused) are returned as they are. The message is redacted as a URL is
 * ({@link failureMessage}): a client may quote its connection URL, password and all.
 */
export function storeFailure(error: unknown): Error {
  if (error instanceof KeywardError || error instanceof TypeError) return error;
  const message = error instanceof Error ? failureMessage(error) : redactQuery(String(error));
  const cause = new Error(message);
  if (error instanceof Error) cause.name = error.name;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') (cause as Error & { code?: string | number }).code = code;
  return new KeywardError('STORE_FAILURE', `the key store failed: ${message}`, { cause });
}
