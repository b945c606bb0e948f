import { createAddressResolver, parseHop, MAX_HOPS, type AddressOptions } from './address';
import { createKeyward } from '../index';
import { resetWarnings } from '../util/warn';
import { formatIp } from '../restrictions/ip-address';
import type { AuthRequest } from '../model';

const req = (remoteAddress: string | undefined, headers: AuthRequest['headers'] = {}): AuthRequest => ({ method: 'GET', path: '/', headers, ...(remoteAddress !== undefined ? { remoteAddress } : {}) });
const xff = (remote: string, value: string | string[]) => req(remote, { 'x-forwarded-for': value });
const fwd = (remote: string, value: string | string[]) => req(remote, { forwarded: value });
const resolver = (o: AddressOptions) => createAddressResolver(o);

describe('client address: socket by default', () => {
  const r = resolver({});
  it('ignores forwarding headers without trusted proxies', () => {
    expect(r(xff('127.0.0.1', '203.0.113.9'))).toBe('127.0.0.1');
    expect(r(fwd('127.0.0.1', 'for=203.0.113.9'))).toBe('127.0.0.1');
    expect(r.viaTrustedProxy(xff('127.0.0.1', '203.0.113.9'))).toBe(false);
  });
  it('normalises IPv4-mapped and IPv6 socket addresses; no socket address is unknown', () => {
    expect(r(req('::ffff:127.0.0.1'))).toBe('127.0.0.1');
    expect(r(req('2001:DB8::0001'))).toBe('2001:db8::1');
    expect(r(req('fe80::1%en0'))).toBe('fe80::1');
    expect(r(req(undefined))).toBeUndefined();
  });
});

describe('client address: trusted proxies', () => {
  const r = resolver({ trustProxy: ['loopback', '10.0.0.0/8'] });

  it('walks from the right and stops at the first untrusted hop', () => {
    expect(r(xff('127.0.0.1', '203.0.113.9'))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.2'))).toBe('203.0.113.9');
    expect(r(xff('10.0.0.5', ['1.1.1.1', '203.0.113.9']))).toBe('203.0.113.9');
    expect(r.viaTrustedProxy(xff('10.0.0.5', '1.1.1.1'))).toBe(true);
  });

  it('a spoofed X-Forwarded-For from an untrusted peer is ignored', () => {
    expect(r(xff('198.51.100.7', '10.0.0.1'))).toBe('198.51.100.7');
    expect(r.viaTrustedProxy(xff('198.51.100.7', '10.0.0.1'))).toBe(false);
  });

  it('a spoofed entry left of the real client is never read', () => {
    // client 203.0.113.9 sends "X-Forwarded-For: 10.0.0.1"; the proxy appends the real address
    expect(r(xff('127.0.0.1', '10.0.0.1, 203.0.113.9'))).toBe('203.0.113.9');
  });

  it('a trusted peer without a forwarding header is itself the client', () => {
    expect(r(req('127.0.0.1'))).toBe('127.0.0.1');
  });

  it('normalises hops: IPv4-mapped, ports, brackets, zone ids', () => {
    expect(r(xff('127.0.0.1', '::ffff:203.0.113.9'))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', '203.0.113.9:4711'))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', '[2001:db8::17]:4711'))).toBe('2001:db8::17');
    expect(r(xff('127.0.0.1', '[2001:db8::17]'))).toBe('2001:db8::17');
    expect(r(xff('127.0.0.1', '2001:DB8::17'))).toBe('2001:db8::17');
    expect(r(xff('::ffff:127.0.0.1', 'fe80::1%eth0'))).toBe('fe80::1');
  });

  it('an unparseable hop stops the walk with an unknown address (never the proxy, never a widened range)', () => {
    for (const bad of ['0x7f.1', '127.1', '010.0.0.1', 'unknown', '_hidden', 'garbage', '', '1.2.3.4:99999', '[1.2.3.4]', '[::1', '::1]:80', '1.2.3.4 5.6.7.8', '1.2.3.4:80:80']) {
      expect(r(xff('127.0.0.1', bad))).toBeUndefined();
      expect(r(xff('127.0.0.1', `203.0.113.9, ${bad}`))).toBeUndefined();
    }
    // a malformed entry left of the first untrusted hop is never reached
    expect(r(xff('127.0.0.1', 'garbage, 203.0.113.9'))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', '203.0.113.9,'))).toBeUndefined();
  });

  it('a hop that looks like a trusted proxy in an obfuscated form is not trusted', () => {
    // "127.1" would be 127.0.0.1 to a lax parser: here it is unparseable, so the address is unknown
    expect(r(xff('127.0.0.1', '203.0.113.9, 127.1'))).toBeUndefined();
  });

  it('bounds the work: of an oversized X-Forwarded-For only the right end is read; a walk past it or too many trusted hops give an unknown address', () => {
    // The client's own entry is at the right end: padding it writes to its left (8 KiB and more) is never read, so it
    // cannot make its address unknown and slip past per-address limits, the failed-auth block or a country deny-list.
    expect(r(xff('127.0.0.1', '10.0.0.1,'.repeat(1000) + '203.0.113.9'))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', `${'x'.repeat(9000)}, 203.0.113.9, 10.0.0.2`))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', ['x'.repeat(9000), '203.0.113.9']))).toBe('203.0.113.9');
    expect(r(xff('127.0.0.1', `${'x'.repeat(9000)}203.0.113.9`))).toBeUndefined(); // one cut entry: never read as an address
    // trusted hops up to the cut: the client is left of what is read, so unknown (never the last trusted proxy)
    expect(r(xff('127.0.0.1', Array.from({ length: 30 }, () => `${' '.repeat(300)}10.0.0.1`).join(',')))).toBeUndefined();
    const many = Array.from({ length: MAX_HOPS + 1 }, () => '10.0.0.1').join(',');
    expect(r(xff('127.0.0.1', many))).toBeUndefined();
    expect(r(xff('127.0.0.1', '198.51.100.1,' + Array.from({ length: MAX_HOPS - 1 }, () => '10.0.0.1').join(',')))).toBe('198.51.100.1');
  });

  it('padding X-Forwarded-For past 8 KiB does not slip past the failed-auth block', async () => {
    const kw = createKeyward({ trustProxy: ['loopback'], authFailures: { max: 3 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': `kw_live_${'A'.repeat(30)}${i}`, 'x-forwarded-for': `${'x'.repeat(9000)}, 203.0.113.9` }, remoteAddress: '127.0.0.1' });
      codes.push(d.ok ? 'allowed' : d.code);
    }
    expect(codes).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED', 'AUTH_BLOCKED']);
    await kw.close();
  });

  it('never throws on hostile input', () => {
    const hostile = ['\u0000', ',,,', '[', ']', '[]:', '"', ';', '%', '::%%', '1.2.3.4%eth0', 'ffff:'.repeat(100)];
    for (const h of hostile) expect(() => r(xff('127.0.0.1', h))).not.toThrow();
  });
});

describe('client address: RFC 7239 Forwarded', () => {
  const r = resolver({ trustProxy: 'loopback, 10.0.0.0/8', proxyHeader: 'forwarded' });

  it('reads for= from the right, quoted, bracketed, with ports and other parameters', () => {
    expect(r(fwd('127.0.0.1', 'for=192.0.2.60;proto=http;by=203.0.113.43'))).toBe('192.0.2.60');
    expect(r(fwd('127.0.0.1', 'for="[2001:db8:cafe::17]:4711"'))).toBe('2001:db8:cafe::17');
    expect(r(fwd('127.0.0.1', 'for=198.51.100.1, For="10.0.0.3"'))).toBe('198.51.100.1');
    expect(r(fwd('127.0.0.1', ['for=198.51.100.1', 'for=10.0.0.3']))).toBe('198.51.100.1');
    expect(r(fwd('127.0.0.1', 'proto=https;for="192.0.2.60:80"'))).toBe('192.0.2.60');
  });

  it('ignores X-Forwarded-For when Forwarded is the configured header', () => {
    expect(r(xff('127.0.0.1', '203.0.113.9'))).toBe('127.0.0.1');
  });

  it('unknown, obfuscated, missing or duplicated for= make the address unknown', () => {
    for (const bad of ['for=unknown', 'for=_hidden', 'for="_SEVKISEK"', 'proto=http', 'for=1.2.3.4;for=5.6.7.8', 'for="1.2.3.4', 'for=0x7f.1']) {
      expect(r(fwd('127.0.0.1', bad))).toBeUndefined();
    }
  });

  it('bounds the work: of an oversized Forwarded only the right end is read, quote-aware; a walk past it gives an unknown address', () => {
    // Padding the client writes to the left of its own element (8 KiB and more, a cut quoted string) is never read, so
    // it cannot make the address unknown and slip past per-address limits, the failed-auth block or a country deny-list.
    expect(r(fwd('127.0.0.1', `for="${'x'.repeat(9000)}", for=203.0.113.9`))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', `for="${'x,'.repeat(4500)}", for=203.0.113.9;proto=https, for="10.0.0.2"`))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', ['for=' + 'x'.repeat(9000), 'for=203.0.113.9']))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', 'for=10.0.0.1,'.repeat(1000) + 'for=203.0.113.9'))).toBe('203.0.113.9');
    // the right end is a quoted string that the cut opens: a comma in it is not a boundary, and it is never an address
    expect(r(fwd('127.0.0.1', `for="${'x'.repeat(9000)},for=203.0.113.9"`))).toBeUndefined();
    expect(r(fwd('127.0.0.1', `for=${'x'.repeat(9000)}203.0.113.9`))).toBeUndefined(); // one cut element
    // trusted hops up to the cut: the client is left of what is read, so unknown (never the last trusted proxy)
    expect(r(fwd('127.0.0.1', Array.from({ length: 30 }, () => `${' '.repeat(300)}for=10.0.0.1`).join(',')))).toBeUndefined();
    expect(r(fwd('127.0.0.1', Array.from({ length: MAX_HOPS + 1 }, () => 'for=10.0.0.1').join(',')))).toBeUndefined();
    expect(r(fwd('127.0.0.1', 'for=198.51.100.1,' + Array.from({ length: MAX_HOPS - 1 }, () => 'for=10.0.0.1').join(',')))).toBe('198.51.100.1');
  });

  it('an unterminated quoted string the client writes does not swallow the elements its proxies append', () => {
    // client 203.0.113.9 sends `Forwarded: for="`; the proxy appends its element
    expect(r(fwd('127.0.0.1', 'for=", for=203.0.113.9'))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', ['for="\\\\', 'for=203.0.113.9', 'for=10.0.0.2']))).toBe('203.0.113.9');
    // escaped quotes and backslashes inside the proxies' own quoted strings are read as before
    expect(r(fwd('127.0.0.1', 'for=198.51.100.1;x="a\\\\", for=203.0.113.9;x="b\\",c"'))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', 'for=198.51.100.1;x="a\\\\", for=10.0.0.1;x="b\\",c"'))).toBe('198.51.100.1');
  });

  it('padding Forwarded past 8 KiB or opening a quoted string does not slip past the failed-auth block', async () => {
    const kw = createKeyward({ trustProxy: ['loopback'], proxyHeader: 'forwarded', authFailures: { max: 3 } });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const forwarded = i % 2 === 0 ? `for="${'x'.repeat(9000)}", for=203.0.113.9` : 'for=", for=203.0.113.9';
      const d = await kw.check({ method: 'GET', path: '/', headers: { 'x-api-key': `kw_live_${'A'.repeat(30)}${i}`, forwarded }, remoteAddress: '127.0.0.1' });
      codes.push(d.ok ? 'allowed' : d.code);
    }
    expect(codes).toEqual(['CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'CREDENTIALS_INVALID', 'AUTH_BLOCKED', 'AUTH_BLOCKED']);
    await kw.close();
  });

  it('commas inside quoted strings do not split elements', () => {
    expect(r(fwd('127.0.0.1', 'for="a,b", for=203.0.113.9'))).toBe('203.0.113.9');
    expect(r(fwd('127.0.0.1', 'for="10.0.0.1,203.0.113.9"'))).toBeUndefined();
  });
});

describe('client address: hop counts and trusting everyone', () => {
  afterEach(() => resetWarnings());

  it('trustProxy: n trusts the n hops nearest the server', () => {
    const one = resolver({ trustProxy: 1 });
    expect(one(xff('203.0.113.1', '198.51.100.1, 192.0.2.1'))).toBe('192.0.2.1');
    expect(one(req('203.0.113.1'))).toBe('203.0.113.1');
    const two = resolver({ trustProxy: 2 });
    expect(two(xff('203.0.113.1', '198.51.100.1, 192.0.2.1'))).toBe('198.51.100.1');
    expect(two(xff('203.0.113.1', '192.0.2.1'))).toBe('192.0.2.1');
  });

  it('trustProxy: true takes the left-most entry and warns once, with a code', () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const all = resolver({ trustProxy: true });
      resolver({ trustProxy: true });
      expect(all(xff('203.0.113.1', '198.51.100.1, 192.0.2.1'))).toBe('198.51.100.1');
      const calls = spy.mock.calls.filter((c) => (c[1] as { code?: string } | undefined)?.code === 'KEYWARD_TRUST_ALL_PROXIES');
      expect(calls).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
  it('a /0 range trusts every proxy as true does, so it warns once with the same code, naming the entry', () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const warnings = () => spy.mock.calls.filter((c) => (c[1] as { code?: string } | undefined)?.code === 'KEYWARD_TRUST_ALL_PROXIES').map((c) => String(c[0]));
    try {
      for (const [trustProxy, entry] of [[['0.0.0.0/0'], 'trustProxy[0]'], [['loopback', '::/0'], 'trustProxy[1]'], ['10.0.0.0/8, 1.2.3.4/0', 'trustProxy[1]'], [['::ffff:0:0/96'], 'trustProxy[0]']] as const) {
        resetWarnings();
        spy.mockClear();
        const all = resolver({ trustProxy });
        expect(warnings()).toHaveLength(1);
        expect(warnings()[0]).toContain(`"${entry}"`);
        resolver({ trustProxy });
        expect(warnings()).toHaveLength(1);
        if (entry === 'trustProxy[0]') expect(all(xff('203.0.113.1', '198.51.100.1, 192.0.2.1'))).toBe('198.51.100.1');
      }
      resetWarnings();
      spy.mockClear();
      resolver({ trustProxy: ['loopback', 'private', '0.0.0.0/1', '::/1', '10.0.0.0/8'] });
      expect(warnings()).toHaveLength(0);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('client address: options checked at start-up', () => {
  it.each([
    [{ trustProxy: ['10.0.0.0/33'] }, 'option "trustProxy[0]" must be an IP address, a CIDR or one of'],
    [{ trustProxy: 'loopback, nope' }, 'option "trustProxy[1]"'],
    [{ trustProxy: [42] }, 'option "trustProxy[0]" must be a string'],
    [{ trustProxy: -1 }, 'option "trustProxy" as a number'],
    [{ trustProxy: 1.5 }, 'option "trustProxy" as a number'],
    [{ trustProxy: {} }, 'option "trustProxy" must be'],
    [{ proxyHeader: 'x-real-ip' }, 'option "proxyHeader"'],
  ])('%j', (options, message) => {
    expect(() => createAddressResolver(options as AddressOptions)).toThrow(TypeError);
    expect(() => createAddressResolver(options as AddressOptions)).toThrow(message);
  });

  it('accepts false, 0 and an empty list as "no proxy"', () => {
    for (const trustProxy of [false, 0, [], '']) expect(createAddressResolver({ trustProxy })(xff('127.0.0.1', '1.2.3.4'))).toBe('127.0.0.1');
  });
});

describe('parseHop', () => {
  it('parses what proxies write and nothing else', () => {
    expect(formatIp(parseHop(' 1.2.3.4 ')!)).toBe('1.2.3.4');
    expect(parseHop('1.2.3.4:')).toBeUndefined();
    expect(parseHop('[::ffff:1.2.3.4]:80') && formatIp(parseHop('[::ffff:1.2.3.4]:80')!)).toBe('1.2.3.4');
  });
});
