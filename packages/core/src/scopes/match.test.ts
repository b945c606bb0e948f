import { compileScopes, grants, satisfies } from './match';
import { parseScopeExpression } from './expression';

describe('scope matching', () => {
  it('matches exact, wildcard and star, case-sensitively', () => {
    expect(grants('users:read', 'users:read')).toBe(true);
    expect(grants('users:read', 'users:readall')).toBe(false);
    expect(grants('users:*', 'users:read')).toBe(true);
    expect(grants('users:*', 'users:read:all')).toBe(true);
    expect(grants('users:*', 'usersx:read')).toBe(false);
    expect(grants('users:*', 'users:')).toBe(false);
    expect(grants('*', 'anything')).toBe(true);
    expect(grants('Users:read', 'users:read')).toBe(false);
  });

  it('evaluates expressions with AND binding tighter than OR', () => {
    const c = compileScopes('(docs:read OR docs:write) AND users:view');
    expect(satisfies(['docs:read', 'users:view'], c.expression)).toBe(true);
    expect(satisfies(['docs:write', 'users:view'], c.expression)).toBe(true);
    expect(satisfies(['docs:read'], c.expression)).toBe(false);
    expect(satisfies(['users:view'], c.expression)).toBe(false);
    expect(c.scopes).toEqual(['docs:read', 'docs:write', 'users:view']);
    const d = compileScopes('a OR b AND c');
    expect(satisfies(['a'], d.expression)).toBe(true);
    expect(satisfies(['b'], d.expression)).toBe(false);
    expect(satisfies(['a'], compileScopes('a && !b').expression)).toBe(true);
    expect(satisfies(['a', 'b'], compileScopes('a && NOT b').expression)).toBe(false);
  });

  it('treats a list as all-required', () => {
    const c = compileScopes(['a', 'b']);
    expect(satisfies(['a', 'b'], c.expression)).toBe(true);
    expect(satisfies(['a'], c.expression)).toBe(false);
  });

  it.each(['', '(', 'a AND', 'a OR OR b', '(a', 'a)', 'a b', 'a $ b', 'AND'])('refuses bad expression %p with a TypeError', (src) => {
    expect(() => parseScopeExpression(src)).toThrow(TypeError);
  });

  it('names the position of a bad token', () => {
    expect(() => parseScopeExpression('a AND $')).toThrow(/unexpected "\$"/);
  });

  it('never shows a key pasted into an expression or a scope list by mistake', () => {
    const key = `kw_live_${'A1b2'.repeat(10)}`;
    for (const bad of [`(a AND ${key}`, `a AND ${key}$`, `${key} OR`]) {
      let message = '';
      try { parseScopeExpression(bad); } catch (e) { message = (e as Error).message; }
      expect(message).toMatch(/^keyward: invalid scope expression ".*\[REDACTED\]/);
      expect(message).not.toContain('A1b2A1b2');
    }
    expect(() => compileScopes(['docs:read', `${key} x`])).toThrow(/invalid scope expression .*\[REDACTED\]/);
  });
});
