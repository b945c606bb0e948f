import { formatIp, parseIp, canonicalIp } from './ip-address';
import { compileCidrList, parseRule } from './cidr';

describe('parseIp: strict addresses', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1.2.3.4', '::102:304'],
  ])('%s → %s', (input, out) => {
    expect(canonicalIp(input)).toBe(out);
  });

  it.each([
    '127.1', '0x7f.1', '0x7f000001', '2130706433', '0177.0.0.1', '127.000.0.1', '010.0.0.1', '1.2.3.256', '1.2.3', '1.2.3.4.5',
    ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4:80', '[::1]', '::ffff:0x7f.1', '::ffff:127.1', '::ffff:010.0.0.1', '1:2:3:4:5:6:7:8:9',
    'fe80::1%', 'fe80::1%eth 0', 'localhost', '', 'unknown', '_hidden', '1.2.3.4/8', 'x'.repeat(100), ':::', '::1::2',
  ])('refuses %j', (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  it('never throws on odd input', () => {
    for (const s of ['\u0000', '%', '::%', '[', ']', ':', '.', '1..1.1', '::ffff:', '::ffff:1.2.3.4%x', 'ffff'.repeat(20), null, undefined, 42]) {
      expect(() => parseIp(s as string)).not.toThrow();
    }
  });

  it('formats IPv6 canonically (RFC 5952)', () => {
    expect(formatIp(parseIp('2001:0db8:0000:0000:0001:0000:0000:0001')!)).toBe('2001:db8::1:0:0:1');
  });
});

describe('CIDR lists', () => {
  it('matches IPv4 and IPv6 ranges by family, and IPv4-mapped clients through IPv4 rules', () => {
    const list = compileCidrList(['10.0.0.0/8', '2001:db8::/32', '203.0.113.7'], (i) => `x[${i}]`);
    expect(list.has(parseIp('10.1.2.3')!)).toBe(true);
    expect(list.has(parseIp('::ffff:10.1.2.3')!)).toBe(true);
    expect(list.has(parseIp('11.0.0.1')!)).toBe(false);
    expect(list.has(parseIp('2001:db8:ffff::1')!)).toBe(true);
    expect(list.has(parseIp('2001:db9::1')!)).toBe(false);
    expect(list.has(parseIp('203.0.113.7')!)).toBe(true);
    expect(list.has(parseIp('203.0.113.8')!)).toBe(false);
    // 6to4 and NAT64 embeddings of 10.1.2.3 are IPv6 clients: IPv4 rules do not see them
    expect(list.has(parseIp('2002:a01:203::1')!)).toBe(false);
    expect(list.has(parseIp('64:ff9b::a01:203')!)).toBe(false);
    expect(list.has(parseIp('::10.1.2.3')!)).toBe(false);
  });

  it('knows named ranges', () => {
    const list = compileCidrList(['loopback', 'PRIVATE', 'linklocal'], (i) => `x[${i}]`);
    for (const a of ['127.0.0.1', '::1', '10.0.0.1', '172.31.255.255', '192.168.1.1', 'fd00::1', '169.254.1.1', 'fe80::1']) expect(list.has(parseIp(a)!)).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::2']) expect(list.has(parseIp(a)!)).toBe(false);
  });

  it('reads IPv4-mapped IPv6 ranges as IPv4 ranges', () => {
    expect(parseRule('::ffff:10.0.0.0/104')).toEqual([[parseIp('10.0.0.0'), 8]]);
    expect(parseRule('::ffff:10.0.0.0/90')).toBeUndefined();
  });

  it('a CIDR with host bits set means its network, as documented; /0 is every address of its family', () => {
    expect(parseRule('10.1.2.3/8')).toEqual([[parseIp('10.1.2.3'), 8]]);
    const list = compileCidrList(['10.1.2.3/8', '2001:db8::1/32'], (i) => `x[${i}]`);
    for (const a of ['10.0.0.0', '10.255.255.255', '2001:db8::', '2001:db8:ffff::1']) expect([a, list.has(parseIp(a)!)]).toEqual([a, true]);
    for (const a of ['11.0.0.0', '2001:db9::']) expect([a, list.has(parseIp(a)!)]).toEqual([a, false]);
    const all = compileCidrList(['0.0.0.0/0', '::/0'], (i) => `x[${i}]`);
    for (const a of ['1.2.3.4', '255.255.255.255', '::ffff:8.8.8.8', '::1', '2001:db8::1']) expect(all.has(parseIp(a)!)).toBe(true);
  });

  it('refuses bad rules with a TypeError naming the entry', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '2001:db8::/129', '10.0.0.0/', '/8', 'example.com', '127.1', '0x7f.0.0.1/8', '10.0.0.0/-1', '10.0.0.0/8/8']) {
      expect(() => compileCidrList(['1.2.3.4', bad], (i) => `option "x[${i}]"`)).toThrow(new TypeError(`keyward: option "x[1]" must be an IP address, a CIDR or one of loopback, linklocal, uniquelocal, private`));
    }
  });
});

describe('named ranges', () => {
  it('are looked up as own names only: constructor or __proto__ is not a rule', () => {
    for (const rule of ['constructor', '__proto__', 'hasOwnProperty', 'CONSTRUCTOR']) expect(parseRule(rule)).toBeUndefined();
    expect(parseRule('loopback')!.length).toBeGreaterThan(0);
  });
});
