import ipaddr from 'ipaddr.js';

/** Plain dotted-decimal IPv4 (the common case, checked without parsing). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The bucket of an address a NAT64 translator wrote for an IPv4 client, or `undefined` for any other address
 * (`bytes` starts with `0064:ff9b:00`). The well-known prefix `64:ff9b::/96` (RFC 6052) holds the IPv4 address in its
 * last 32 bits: that address, so the client counts as it would over IPv4. In the local-use `64:ff9b:1::/48`
 * (RFC 8215) the operator chooses the prefix length, and with it where the IPv4 bits lie: the whole address, which a
 * translator gives one IPv4 client only.
 */
function translated(bytes: number[]): string | undefined {
  if (bytes[5] === 0x01) return `${ipaddr.fromByteArray(bytes).toString()}/128`;
  for (let i = 5; i < 12; i++) if (bytes[i] !== 0) return undefined;
  return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
}

/**
 * The bucket an address counts in: an IPv4 address as is (IPv4-mapped IPv6 included), an IPv6 address as its
 * `/subnet` network (one customer usually holds a whole /56 or /64, so counting single IPv6 addresses would let a
 * client rotate through millions of them). An address of a NAT64 translator counts per IPv4 client behind it: in
 * `64:ff9b::/96` as the IPv4 address it embeds, in `64:ff9b:1::/48` as the whole address (a /56 there would put every
 * IPv4 client of the translator in one bucket). Unparseable input yields `undefined` (the limit is then skipped for
 * address buckets and the caller decides).
 *
 * @example
 * ```ts
 * addressBucket('::ffff:203.0.113.9', 56); // '203.0.113.9'
 * addressBucket('2001:db8:1:2a00::1', 56);  // '2001:db8:1:2a00::/56'
 * addressBucket('64:ff9b::cb00:7109', 56);  // '203.0.113.9' (NAT64)
 * ```
 */
export function addressBucket(address: string | undefined, ipv6Subnet: number): string | undefined {
  if (address === undefined) return undefined;
  if (DOTTED_QUAD.test(address)) return address;
  if (!ipaddr.isValid(address)) return undefined;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const bytes = parsed.toByteArray();
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes[4] === 0x00) {
    const nat64 = translated(bytes);
    if (nat64 !== undefined) return nat64;
  }
  let bits = ipv6Subnet;
  for (let i = 0; i < 16; i++) {
    if (bits >= 8) bits -= 8;
    else {
      bytes[i] = bits === 0 ? 0 : bytes[i]! & (0xff << (8 - bits));
      bits = 0;
    }
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${ipv6Subnet}`;
}

/** Checks an IPv6 subnet option (0 < n ≤ 128). */
export function parseSubnet(value: unknown, name: string): number {
  if (value === undefined) return 56;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 128) throw new TypeError(`keyward: option "${name}" must be an integer from 1 to 128`);
  return value as number;
}
