import { compileUserAgents } from './user-agent';
import { compileGlob } from './glob';
import { BOT_USER_AGENTS } from './bots';
import { namer } from './invalid';
import type { AuthRequest } from '../model';

const check = (v: object) => compileUserAgents(v, namer(false), '.userAgents')!;
const ua = (value: string | string[] | undefined): AuthRequest => ({ method: 'GET', path: '/', headers: value === undefined ? {} : { 'user-agent': value } });
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

describe('glob matching', () => {
  it('substring without *, whole-input glob with *', () => {
    expect(compileGlob('Curl')('curl/8.5.0')).toBe(true);
    expect(compileGlob('mozilla/5.0 *')('mozilla/5.0 (x11)')).toBe(true);
    expect(compileGlob('mozilla/5.0 *')('xmozilla/5.0 (x11)')).toBe(false);
    expect(compileGlob('*firefox/*')('mozilla/5.0 gecko firefox/128.0')).toBe(true);
    expect(compileGlob('a*b*c')('abc')).toBe(true);
    expect(compileGlob('a*b*c')('ac')).toBe(false);
    expect(compileGlob('a*ab')('aab')).toBe(true);
    expect(compileGlob('ab*ba')('aba')).toBe(false);
    expect(compileGlob('*')('')).toBe(true);
    expect(compileGlob('a**b')('a-b')).toBe(true);
  });

  it('stays linear on pathological input (a*a*a*…b against aaaa…)', () => {
    const pattern = Array.from({ length: 50 }, () => 'a').join('*') + 'b';
    const m = compileGlob(pattern);
    expect(m('a'.repeat(8192))).toBe(false);
    expect(m('a'.repeat(8191) + 'b')).toBe(true);
  });
});

describe('user-agent restriction', () => {
  it('denies built-in bots and scripts when asked, lets browsers through', () => {
    const c = check({ denyBots: true });
    for (const bot of ['curl/8.5.0', 'Wget/1.21.4', 'python-requests/2.32.3', 'Go-http-client/1.1', 'Scrapy/2.11.2 (+https://scrapy.org)', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'okhttp/4.12.0', 'PostmanRuntime/7.39.0', 'Java/17.0.2', 'axios/1.7.2', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36']) {
      expect([bot, c(ua(bot))]).toEqual([bot, false]);
    }
    for (const browser of [FIREFOX, CHROME, SAFARI_IOS]) expect(c(ua(browser))).toBe(true);
    expect(c(ua(undefined))).toBe(true);
    expect(BOT_USER_AGENTS.length).toBeGreaterThan(30);
  });

  it('denyBots also refuses the runtimes\' own fetch (Node sends "node", Deno and Bun their name), scanners and load testers', () => {
    const c = check({ denyBots: true });
    for (const bot of ['node', 'Deno/1.46.3', 'Bun/1.1.29', 'sqlmap/1.8.9#stable (https://sqlmap.org)', 'Mozilla/5.0 (Nikto/2.5.0)', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)', 'WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)', 'gobuster/3.6', 'ApacheBench/2.3', 'k6/0.54.0 (https://k6.io/)', 'RestSharp/112.0.0.0', 'Typhoeus - https://github.com/typhoeus/typhoeus', 'fasthttp']) {
      expect([bot, c(ua(bot))]).toEqual([bot, false]);
    }
    for (const browser of [FIREFOX, CHROME, SAFARI_IOS, 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0', 'Mozilla/5.0 (Linux; Android 14; SM-K600) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Mobile Safari/537.36']) {
      expect([browser, c(ua(browser))]).toEqual([browser, true]);
    }
  });

  it('allow and deny patterns; deny wins', () => {
    const c = check({ allow: ['Mozilla/5.0 *', 'acme-sdk/'], deny: ['*Firefox/*'] });
    expect(c(ua(CHROME))).toBe(true);
    expect(c(ua('acme-sdk/1.2 node/20'))).toBe(true);
    expect(c(ua(FIREFOX))).toBe(false);
    expect(c(ua('curl/8'))).toBe(false);
    expect(c(ua(undefined))).toBe(false);
  });

  it('require refuses a missing or empty user agent; repeated headers are refused', () => {
    const c = check({ require: true });
    expect(c(ua(undefined))).toBe(false);
    expect(c(ua(''))).toBe(false);
    expect(c(ua('anything'))).toBe(true);
    expect(c(ua(['a', 'b']))).toBe(false);
  });

  it('an 8 KB user agent is matched in full (a bot marker at the very end is found)', () => {
    const c = check({ denyBots: true, deny: ['*evil*tail'] });
    expect(c(ua('Mozilla/5.0 ' + 'x'.repeat(8180)))).toBe(true);
    expect(c(ua('Mozilla/5.0 ' + 'x'.repeat(8180) + ' curl/8'))).toBe(false);
    expect(c(ua('evil' + 'e'.repeat(8180) + 'tail'))).toBe(false);
  });

  it('refuses a pattern written as a regular expression, which would match nothing (a deny rule that denies no one)', () => {
    for (const pattern of ['^curl', 'python-requests$', '.*bot.*', 'Mozilla/5.0 .+', 'curl\\/\\d+', 'curl|wget', '(?i)curl']) {
      expect(() => check({ deny: ['scrapy', pattern] })).toThrow(`"restrictions.userAgents.deny[1]" looks like a regular expression`);
      expect(() => check({ allow: [pattern] })).toThrow(`"restrictions.userAgents.allow[0]" looks like a regular expression`);
    }
    // what real user agents hold stays a pattern: parentheses, brackets, dots, plus signs, semicolons
    const c = check({ deny: ['(compatible; Googlebot/2.1; +http://www.google.com/bot.html)', '[FBAN/FBIOS;', 'v1.2.3', 'old-sdk/1.*'] });
    expect(c(ua('old-sdk/1.4.2'))).toBe(false); // a glob's ".*": a literal dot, then anything
    expect(c(ua('old-sdk/2.0.0'))).toBe(true);
    expect(c(ua('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'))).toBe(false);
    expect(c(ua('Mozilla/5.0 Mobile/15E148 [FBAN/FBIOS;FBAV/430.0]'))).toBe(false);
    expect(c(ua(FIREFOX))).toBe(true);
  });

  it('an empty restriction compiles to nothing; bad patterns are refused', () => {
    expect(compileUserAgents({}, namer(false), '.userAgents')).toBeUndefined();
    expect(() => check({ deny: [''] })).toThrow('keyward: "restrictions.userAgents.deny[0]" must be a non-empty string');
    expect(() => check({ deny: [/curl/] })).toThrow('"restrictions.userAgents.deny[0]"');
    expect(() => check({ denyBots: 'yes' })).toThrow('"restrictions.userAgents.denyBots" must be a boolean');
  });
});
