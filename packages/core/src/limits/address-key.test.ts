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
