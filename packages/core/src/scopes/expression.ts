import { redactCredentials } from '../events/redact';

/**
 * A parsed scope requirement: a tree of AND / OR / NOT over scope names.
 */
export type ScopeExpression =
  | { readonly op: 'scope'; readonly scope: string }
  | { readonly op: 'and'; readonly args: readonly ScopeExpression[] }
  | { readonly op: 'or'; readonly args: readonly ScopeExpression[] }
  | { readonly op: 'not'; readonly arg: ScopeExpression };

/** Characters allowed in a scope name: letters, digits and `_ . : - / *`. */
export const SCOPE_RE = /^[A-Za-z0-9_.:\-/*]{1,200}$/;

/** True when `scope` is a valid scope name. */
export function isValidScope(scope: unknown): scope is string {
  return typeof scope === 'string' && SCOPE_RE.test(scope);
}

type Token = { kind: 'scope'; value: string } | { kind: 'and' | 'or' | 'not' | '(' | ')'; value: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(\(|\)|&&|\|\||!|[A-Za-z0-9_.:\-/*]+|\S)/gy;
  let m: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < input.length && (m = re.exec(input)) !== null) {
    const t = m[1]!;
    const upper = t.toUpperCase();
    if (t === '(' || t === ')') tokens.push({ kind: t, value: t });
    else if (upper === 'AND' || t === '&&') tokens.push({ kind: 'and', value: t });
    else if (upper === 'OR' || t === '||') tokens.push({ kind: 'or', value: t });
    else if (upper === 'NOT' || t === '!') tokens.push({ kind: 'not', value: t });
    else if (SCOPE_RE.test(t)) tokens.push({ kind: 'scope', value: t });
    else throw new TypeError(`keyward: invalid scope expression "${redactCredentials(input)}": unexpected "${redactCredentials(t)}" at position ${m.index + m[0].length - t.length}`);
    if (/^\s*$/.test(input.slice(re.lastIndex))) break;
  }
  return tokens;
}

/**
 * Parses a scope expression such as `(docs:read OR docs:write) AND users:view`. Keywords `AND`, `OR`, `NOT` (any
 * case) or `&&`, `||`, `!`; AND binds tighter than OR; parentheses group.
 *
 * @throws TypeError with the position of the mistake for a malformed expression
 */
export function parseScopeExpression(input: string): ScopeExpression {
  if (typeof input !== 'string' || input.trim() === '') throw new TypeError('keyward: a scope expression must be a non-empty string');
  const tokens = tokenize(input);
  let i = 0;
  const fail = (what: string): never => {
    throw new TypeError(`keyward: invalid scope expression "${redactCredentials(input)}": ${what}`); // a key pasted in by mistake is not shown
  };
  const parseOr = (): ScopeExpression => {
    const args = [parseAnd()];
    while (tokens[i]?.kind === 'or') {
      i++;
      args.push(parseAnd());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };
  const parseAnd = (): ScopeExpression => {
    const args = [parseUnary()];
    while (tokens[i]?.kind === 'and') {
      i++;
      args.push(parseUnary());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const parseUnary = (): ScopeExpression => {
    const t = tokens[i];
    if (!t) return fail('unexpected end');
    if (t.kind === 'not') {
      i++;
      return { op: 'not', arg: parseUnary() };
    }
    if (t.kind === '(') {
      i++;
      const inner = parseOr();
      if (tokens[i]?.kind !== ')') fail('missing ")"');
      i++;
      return inner;
    }
    if (t.kind === 'scope') {
      i++;
      return { op: 'scope', scope: t.value };
    }
    return fail(`unexpected "${t.value}"`);
  };
  const expr = parseOr();
  if (i < tokens.length) fail(`unexpected "${tokens[i]!.value}"`);
  return expr;
}
