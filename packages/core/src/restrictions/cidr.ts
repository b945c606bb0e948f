import ipaddr from 'ipaddr.js';
import { parseIp, type IpAddress } from './ip-address';

/**
 * Named address ranges accepted wherever a CIDR is (trusted proxies, allow and deny lists), as in Express's
 * `trust proxy`: `loopback`, `linklocal`, `uniquelocal`, and `private` (an alias of `uniquelocal`).
 */
export const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

type Range = [IpAddress, number];

/** A compiled list of addresses and ranges. IPv4 rules only ever meet IPv4 addresses, IPv6 rules IPv6 ones. */
export interface CidrList {
  /** True when the address falls in one of the ranges. */
  has(address: IpAddress): boolean;
  /** How many ranges the list holds. */
  readonly size: number;
}

/**
 * Parses one rule: an address (`203.0.113.7`, `2001:db8::1`), a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a named
 * range. An IPv4-mapped IPv6 range with a prefix of at least 96 (`::ffff:10.0.0.0/104`) becomes the IPv4 range, to
 * match how addresses are normalised. Host bits set below the prefix are allowed (`10.1.2.3/8` means `10.0.0.0/8`).
 *
 * @returns the ranges, or `undefined` when the rule is not valid
 */
export function parseRule(rule: string): Range[] | undefined {
  if (typeof rule !== 'string') return undefined;
  const text = rule.trim();
  const name = text.toLowerCase();
  const named = Object.hasOwn(NAMED_RANGES, name) ? NAMED_RANGES[name] : undefined; // never `constructor` & co.
  if (named) return named.map((r) => parseRule(r)![0]!);
  const slash = text.indexOf('/');
  const address = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  if (slash === -1) return [[address, max]];
  const bitsText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(bitsText)) return undefined;
  let bits = Number(bitsText);
  const mappedText = slash !== -1 && text.slice(0, slash).indexOf(':') !== -1 && address.kind() === 'ipv4';
  if (mappedText) {
    // `::ffff:a.b.c.d/N` was written as IPv6; its prefix counts the 96 mapped bits.
    if (bits < 96 || bits > 128) return undefined;
    bits -= 96;
  }
  if (bits > max) return undefined;
  return [[address, bits]];
}

/**
 * Compiles rules once into a {@link CidrList}.
 *
 * @param rules - addresses, CIDRs or named ranges
 * @param nameOf - how to name rule `i` in the error, e.g. `(i) => \`option "trustProxy[${i}]"\``
 * @throws TypeError naming the rule that is not valid
 */
export function compileCidrList(rules: readonly string[], nameOf: (index: number) => string): CidrList {
  const v4: Range[] = [];
  const v6: Range[] = [];
  rules.forEach((rule, i) => {
    const ranges = parseRule(rule);
    if (!ranges) throw new TypeError(`keyward: ${nameOf(i)} must be an IP address, a CIDR or one of ${Object.keys(NAMED_RANGES).join(', ')}`);
    for (const r of ranges) (r[0].kind() === 'ipv4' ? v4 : v6).push(r);
  });
  return {
    size: v4.length + v6.length,
    has(address) {
      const list = address.kind() === 'ipv4' ? v4 : v6;
      for (const r of list) if ((address as ipaddr.IPv4).match(r as [ipaddr.IPv4, number])) return true;
      return false;
    },
  };
}
