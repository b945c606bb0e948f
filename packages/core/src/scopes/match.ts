import { isValidScope, parseScopeExpression, type ScopeExpression } from './expression';

/**
 * True when a held scope grants a required one. Exact match, `*` (everything), or a trailing `:*` wildcard
 * (`users:*` grants `users:read` and `users:read:all`). Case-sensitive; `users:read` does not grant `users:readall`.
 */
export function grants(held: string, required: string): boolean {
  if (held === required || held === '*') return true;
  if (held.length >= 2 && held.endsWith(':*')) return required.startsWith(held.slice(0, -1)) && required.length > held.length - 1;
  return false;
}

/** True when any held scope grants `required`. */
export function holds(held: readonly string[], required: string): boolean {
  for (const h of held) if (grants(h, required)) return true;
  return false;
}

/** True when the held scopes satisfy the expression. */
export function satisfies(held: readonly string[], expr: ScopeExpression): boolean {
  switch (expr.op) {
    case 'scope':
      return holds(held, expr.scope);
    case 'and':
      return expr.args.every((a) => satisfies(held, a));
    case 'or':
      return expr.args.some((a) => satisfies(held, a));
    case 'not':
      return !satisfies(held, expr.arg);
  }
}

/** Every scope an expression names (outside NOT), in order, without repeats. */
export function scopesOf(expr: ScopeExpression, out: string[] = []): string[] {
  if (expr.op === 'scope') {
    if (!out.includes(expr.scope)) out.push(expr.scope);
  } else if (expr.op === 'and' || expr.op === 'or') {
    for (const a of expr.args) scopesOf(a, out);
  }
  return out;
}

const COMPILED = Symbol.for('keyward.compiledScopes');

/** A scope requirement parsed once, ready for `check()`. */
export interface CompiledScopes {
  readonly [COMPILED]: true;
  readonly expression: ScopeExpression;
  /** Scopes to name in an `insufficient_scope` challenge. */
  readonly scopes: readonly string[];
  /** The source text, for messages. */
  readonly source: string;
}

/** True when `value` came from {@link compileScopes}. */
export function isCompiledScopes(value: unknown): value is CompiledScopes {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COMPILED] === true;
}

/**
 * Parses a requirement once, at start-up: a list of scopes that must all be held, or one expression string, or a
 * list whose items are themselves expressions (all must hold).
 *
 * @example
 * ```ts
 * const need = compileScopes('(docs:read OR docs:write) AND users:view');
 * ```
 * @throws TypeError for an invalid scope or expression
 */
export function compileScopes(requirement: string | readonly string[] | CompiledScopes): CompiledScopes {
  if (isCompiledScopes(requirement)) return requirement;
  const items = typeof requirement === 'string' ? [requirement] : requirement;
  if (!Array.isArray(items)) throw new TypeError('keyward: a scope requirement must be a scope, an expression or a list of them (strings)');
  if (items.length === 0) throw new TypeError('keyward: a scope requirement needs at least one scope');
  const parts = items.map((s) => {
    if (typeof s !== 'string') throw new TypeError('keyward: scopes must be strings');
    return isValidScope(s) ? ({ op: 'scope', scope: s } as const) : parseScopeExpression(s);
  });
  const expression: ScopeExpression = parts.length === 1 ? parts[0]! : { op: 'and', args: parts };
  return { [COMPILED]: true, expression, scopes: scopesOf(expression), source: items.join(' AND ') };
}
