const warned = new Set<string>();

/**
 * Emits a process warning once per code for the life of the process: for settings that are legal but
 * dangerous (trusting every proxy, credentials in the query string, a short secret).
 *
 * @param code - stable code such as `KEYWARD_QUERY_CREDENTIALS`
 * @param message - what is dangerous and what to do instead; never a secret
 */
export function warnOnce(code: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { type: 'KeywardWarning', code });
}

/** Forgets which warnings were emitted (tests only). */
export function resetWarnings(): void {
  warned.clear();
}
