import { compileReferrers, parseOriginRule } from './referrer';
import { namer } from './invalid';
import type { AuthRequest } from '../model';

const check = (allow: string[], allowMissing?: boolean) => compileReferrers({ allow, ...(allowMissing !== undefined ? { allowMissing } : {}) }, namer(false), '.referrers')!;
const req = (headers: AuthRequest['headers']): AuthRequest => ({ method: 'GET', path: '/', headers });
const origin = (o: string) => req({ origin: o });
const referer = (r: string) => req({ referer: r });

describe('referrer restriction', () => {
  const c = check(['example.com', '*.example.org', 'https://app.example.net', 'http://localhost:3000', 'https://[2001:db8::1]']);

  it('allows listed origins, with or without a scheme in the rule', () => {
    for (const o of ['https://example.com', 'http://example.com', 'https://example.com:8443', 'https://EXAMPLE.com.', 'https://a.example.org', 'https://a.b.example.org', 'https://app.example.net', 'https://app.example.net:443', 'http://localhost:3000', 'https://[2001:db8::1]']) {
      expect([o, c(origin(o))]).toEqual([o, true]);
    }
  });

  it('refuses look-alikes: suffixes, prefixes, userinfo, scheme and port mismatches', () => {
    for (const o of [
      'https://example.com.evil.test', 'https://evil-example.com', 'https://notexample.com', 'https://example.com@evil.test', 'https://evil.test/?https://example.com',
      'https://evil.test/example.com', 'https://example.org', 'https://evilexample.org', 'https://example.org.evil.test', 'http://app.example.net', 'https://app.example.net:444',
      'http://localhost:3001', 'https://localhost:3000', 'ftp://example.com', 'javascript:alert(1)//example.com', 'file://example.com/', 'https://[2001:db8::2]',
    ]) {
      expect([o, c(origin(o))]).toEqual([o, false]);
    }
  });

  it('reads Referer when Origin is absent, as a URL with a path', () => {
    expect(c(referer('https://a.example.org/page?x=1#y'))).toBe(true);
    expect(c(referer('https://example.com@evil.test/page'))).toBe(false);
    expect(c(referer('https://evil.test/https://example.com/'))).toBe(false);
  });

  it('answers the same when a value is seen again, also after more distinct values than it remembers', () => {
    const d = check(['example.com']);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2500; i++) {
        expect(d(referer(`https://example.com/page/${i}`))).toBe(true);
        expect(d(referer(`https://evil${i}.example/`))).toBe(false);
      }
      expect(d(origin('https://example.com'))).toBe(true);
      expect(d(origin('null'))).toBe(false);
    }
  });

  it('Origin wins over Referer', () => {
    expect(c(req({ origin: 'https://evil.test', referer: 'https://example.com/' }))).toBe(false);
    expect(c(req({ origin: 'https://example.com', referer: 'https://evil.test/' }))).toBe(true);
  });

  it('opaque, malformed, repeated and oversized values never match', () => {
    expect(c(origin('null'))).toBe(false);
    expect(c(origin('example.com'))).toBe(false);
    expect(c(origin('https://'))).toBe(false);
    expect(c(req({ origin: ['https://example.com', 'https://example.com'] }))).toBe(false);
    expect(c(referer('https://example.com/' + 'a'.repeat(5000)))).toBe(false);
  });

  it('a request without Origin or Referer follows allowMissing (default: refuse)', () => {
    expect(c(req({}))).toBe(false);
    expect(check(['example.com'], true)(req({}))).toBe(true);
    expect(check(['example.com'], true)(origin('https://evil.test'))).toBe(false);
  });

  it('handles internationalised names through punycode', () => {
    const idn = check(['*.bücher.example']);
    expect(idn(origin('https://shop.xn--bcher-kva.example'))).toBe(true);
    expect(idn(origin('https://shop.bücher.example'))).toBe(true);
  });

  it('refuses bad rules at start-up, naming them', () => {
    for (const bad of ['', 'https://example.com/path', 'example.com?x', 'user@example.com', '*', '*.', 'a.*.example.com', '*example.com', 'exa mple.com', 'example.com:99999', '*.10.0.0.1', '://example.com']) {
      expect(() => check(['example.com', bad])).toThrow(/"restrictions\.referrers\.allow\[1\]"/);
    }
    expect(() => compileReferrers({}, namer(true), '.referrers')).toThrow('keyward: option "restrictions.referrers.allow" must be an array of origins');
    expect(() => compileReferrers({ allow: [], other: 1 }, namer(true), '.referrers')).toThrow(/unknown field "other"/);
    expect(parseOriginRule('HTTPS://App.Example.COM:8443/')).toEqual({ scheme: 'https', host: 'app.example.com', wildcard: false, port: '8443' });
  });
});
