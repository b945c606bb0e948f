import { addressBucket, parseSubnet } from './address-key';

describe('addressBucket', () => {
  it('keeps an IPv4 address as is and treats IPv4-mapped IPv6 as IPv4', () => {
    expect(addressBucket('203.0.113.9', 56)).toBe('203.0.113.9');
    expect(addressBucket('::ffff:203.0.113.9', 56)).toBe('203.0.113.9');
  });

  it('groups IPv6 addresses by subnet (default /56, configurable)', () => {
    expect(addressBucket('2001:db8:1:2aff::1', 56)).toBe('2001:db8:1:2a00::/56');
    expect(addressBucket('2001:db8:1:2a01:ffff::9', 56)).toBe('2001:db8:1:2a00::/56');
    expect(addressBucket('2001:db8:1:2aff::1', 64)).toBe('2001:db8:1:2aff::/64');
    expect(addressBucket('2001:db8:1:2aff::1', 60)).toBe('2001:db8:1:2af0::/60');
    expect(addressBucket('2001:db8::1', 128)).toBe('2001:db8::1/128');
  });

  it('keys a NAT64 address (RFC 6052 well-known prefix 64:ff9b::/96) by the IPv4 address it embeds, as IPv4 itself', () => {
    // Every IPv4 client behind a translator comes from 64:ff9b::/96: one /56 bucket for all of them, before.
    expect(addressBucket('64:ff9b::cb00:7109', 56)).toBe('203.0.113.9');
    expect(addressBucket('64:ff9b::c633:6401', 56)).toBe('198.51.100.1');
    expect(addressBucket('64:ff9b::203.0.113.9', 64)).toBe('203.0.113.9');
    // just outside the /96: an ordinary IPv6 address
    expect(addressBucket('64:ff9b::1:cb00:7109', 56)).toBe('64:ff9b::/56');
  });

  it('keys a local-use NAT64 address (RFC 8215, 64:ff9b:1::/48) by the whole address, one per IPv4 client', () => {
    // The operator picks the prefix length (/48 … /96), so where the IPv4 bits lie is not known; each IPv4 client still
    // has exactly one address there.
    expect(addressBucket('64:ff9b:1::cb00:7109', 56)).toBe('64:ff9b:1::cb00:7109/128');
    expect(addressBucket('64:ff9b:1::cb00:710a', 56)).toBe('64:ff9b:1::cb00:710a/128');
    expect(addressBucket('64:ff9b:1:cb00:71:900::', 56)).toBe('64:ff9b:1:cb00:71:900::/128'); // the /48 format
    expect(addressBucket('64:ff9b:2::1', 56)).toBe('64:ff9b:2::/56');
  });

  it('yields undefined for anything that is not an address', () => {
    expect(addressBucket(undefined, 56)).toBeUndefined();
    expect(addressBucket('nope', 56)).toBeUndefined();
    expect(addressBucket('', 56)).toBeUndefined();
  });

  it('checks the subnet option', () => {
    expect(parseSubnet(undefined, 'x')).toBe(56);
    expect(parseSubnet(48, 'x')).toBe(48);
    expect(() => parseSubnet(0, 'limits.ipv6Subnet')).toThrow('keyward: option "limits.ipv6Subnet" must be an integer from 1 to 128');
    expect(() => parseSubnet(129, 'x')).toThrow(TypeError);
  });
});
