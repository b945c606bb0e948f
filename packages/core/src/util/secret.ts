import { readFileSync } from 'node:fs';

/**
 * Reads a secret from an explicit value, else from the environment variable `envName`, else from the file named by
 * `${envName}_FILE` (trailing newline trimmed). Returns `undefined` when none is set.
 *
 * @param explicit - a value given in code (optional)
 * @param envName - the environment variable, e.g. `KEYWARD_PEPPER`
 * @param optionName - the option's name for error messages
 * @throws TypeError naming the option or the variable when the file cannot be read or the value is empty
 */
export function readSecret(explicit: unknown, envName: string, optionName: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit !== undefined) {
    if (typeof explicit !== 'string' || explicit.length === 0) {
      throw new TypeError(`keyward: option "${optionName}" must be a non-empty string`);
    }
    return explicit;
  }
  const direct = env[envName];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[`${envName}_FILE`];
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new TypeError(`keyward: cannot read the file named by ${envName}_FILE (for option "${optionName}")`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value.length === 0) throw new TypeError(`keyward: the file named by ${envName}_FILE is empty (option "${optionName}")`);
    return value;
  }
  return undefined;
}
