import { likelyMeant, shownName } from './fields';
import { warnOnce } from '../util/warn';

/**
 * Every environment variable a keyward package reads under its own names: the core (pepper, signing key), the
 * stores (encryption keys) and the CLI (store, prefixes, schema, channel).
 */
export const ENVIRONMENT_NAMES: readonly string[] = Object.freeze([
  'KEYWARD_PEPPER', 'KEYWARD_PEPPER_FILE', 'KEYWARD_PEPPER_PREVIOUS', 'KEYWARD_PEPPER_PREVIOUS_FILE',
  'KEYWARD_ENCRYPTION_KEYS', 'KEYWARD_ENCRYPTION_KEYS_FILE',
  'KEYWARD_SIGNING_KEY', 'KEYWARD_SIGNING_KEY_FILE',
  'KEYWARD_STORE', 'KEYWARD_PREFIX', 'KEYWARD_PG_SCHEMA', 'KEYWARD_REDIS_PREFIX', 'KEYWARD_REDIS_CHANNEL',
]);

/** The names without their `KEYWARD_` prefix, which every name shares: a near name is near in what follows it. */
const SUFFIXES = ENVIRONMENT_NAMES.map((name) => name.slice('KEYWARD_'.length));

/** The `…Env` names an options object of the `tokens` option chooses (issuers' and signing keys' secrets and keys). */
function chosenNames(tokens: unknown): string[] {
  const names: string[] = [];
  const collect = (entry: unknown): void => {
    if (typeof entry !== 'object' || entry === null) return;
    for (const field of ['secretEnv', 'publicKeyEnv', 'privateKeyEnv']) {
      const name = (entry as Record<string, unknown>)[field];
      if (typeof name === 'string') names.push(name, `${name}_FILE`);
    }
  };
  if (typeof tokens !== 'object' || tokens === null) return names;
  const { issuers, signing } = tokens as { issuers?: unknown; signing?: unknown };
  if (Array.isArray(issuers)) issuers.forEach(collect);
  if (typeof signing === 'object' && signing !== null) {
    const keys = (signing as { keys?: unknown }).keys;
    if (Array.isArray(keys)) keys.forEach(collect);
  }
  return names;
}

/**
 * The variables of `env` that look like a misspelling of one keyward reads (`KEYWARD_PEPER`, `keyward_pepper`), each
 * with the name it was likely meant to be. A misspelt `KEYWARD_PEPPER` is not an error keyward could otherwise see:
 * keys would be hashed without the pepper, and every one of them refused once the name is put right. Variables
 * named by an option (`tokens.issuers[].secretEnv`), and those near no name keyward reads (an application's own
 * `KEYWARD_WEBHOOK_SECRET`), are left alone. Looks at names only, never a value.
 */
export function misspeltEnvironment(env: NodeJS.ProcessEnv, tokens?: unknown): Array<{ readonly name: string; readonly meant: string }> {
  const chosen = chosenNames(tokens);
  const found: Array<{ name: string; meant: string }> = [];
  for (const name of Object.keys(env)) {
    if (!/^keyward_/i.test(name) || ENVIRONMENT_NAMES.includes(name) || chosen.includes(name)) continue;
    const meant = likelyMeant(name.slice('KEYWARD_'.length), SUFFIXES);
    if (meant !== undefined) found.push({ name, meant: `KEYWARD_${meant}` });
  }
  return found;
}

/**
 * Warns once (`KEYWARD_ENV_MISSPELT`) when {@link misspeltEnvironment} finds a variable, naming it (as
 * {@link shownName} shows a name) and the variable it was likely meant to be. A warning, not an error: the
 * environment belongs to the whole process.
 */
export function warnMisspeltEnvironment(env: NodeJS.ProcessEnv, tokens?: unknown): void {
  const found = misspeltEnvironment(env, tokens);
  if (found.length === 0) return;
  const list = found.map(({ name, meant }) => `${shownName(name)} (did you mean "${meant}"?)`).join(', ');
  warnOnce('KEYWARD_ENV_MISSPELT', `keyward: the environment has ${list}, which keyward does not read; a setting under a misspelt name is not applied.`);
}
