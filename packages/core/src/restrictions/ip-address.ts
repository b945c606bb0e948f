import ipaddr from 'ipaddr.js';

/** A parsed address: IPv4, or IPv6 that is not IPv4-mapped (mapped addresses become IPv4). */
export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Strict dotted-quad: four decimal octets, no leading zeros, no hex, no short forms (`127.1`, `0x7f.1`, `0177.0.0.1`). */
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const IPV6_CHARS_RE = /^[0-9A-Fa-f:.]{2,45}$/;
const ZONE_RE = /^[A-Za-z0-9_.~-]{1,32}$/;
const MAX_TEXT = 64;

/**
 * Parses an IP address strictly. Accepts the strict dotted-quad IPv4 form and the RFC 4291 IPv6 text forms (with an
 * optional zone id, which is dropped: a zone names an interface, not a host). Refuses everything else — hex or octal
 * octets, short forms such as `127.1`, leading zeros, ports, brackets, whitespace — so obfuscated values can never
 * slip past a rule. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) becomes its IPv4 address; the deprecated
 * IPv4-compatible form (`::1.2.3.4`) stays IPv6.
 *
 * @returns the address, or `undefined` when the text is not a valid address
 */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) return undefined;
  if (IPV4_RE.test(text)) return ipaddr.IPv4.parse(text);
  let body = text;
  const zone = body.indexOf('%');
  if (zone !== -1) {
    if (!ZONE_RE.test(body.slice(zone + 1))) return undefined;
    body = body.slice(0, zone);
  }
  if (!IPV6_CHARS_RE.test(body) || body.indexOf(':') === -1) return undefined;
  let v6: ipaddr.IPv6;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  try {
    if (tail.indexOf('.') !== -1) {
      // Embedded IPv4: parse it strictly ourselves (ipaddr.js would also read `::1.2.3.4` as mapped).
      if (!IPV4_RE.test(tail)) return undefined;
      const head = body.slice(0, lastColon + 1) + '0:0';
      if (!ipaddr.IPv6.isValid(head)) return undefined;
      const parts = ipaddr.IPv6.parse(head).parts.slice();
      const o = tail.split('.').map(Number);
      parts[6] = (o[0]! << 8) | o[1]!;
      parts[7] = (o[2]! << 8) | o[3]!;
      v6 = new ipaddr.IPv6(parts);
    } else {
      if (!ipaddr.IPv6.isValid(body)) return undefined;
      v6 = ipaddr.IPv6.parse(body);
    }
  } catch {
    return undefined;
  }
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** The canonical text of an address: dotted-quad for IPv4, RFC 5952 for IPv6. */
export function formatIp(address: IpAddress): string {
  return address.kind() === 'ipv4' ? address.toString() : (address as ipaddr.IPv6).toRFC5952String();
}

/** Parses and formats in one step; `undefined` for anything that is not a strict address. */
export function canonicalIp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const a = parseIp(text);
  return a && formatIp(a);
}
