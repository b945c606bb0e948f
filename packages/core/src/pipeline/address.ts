import type { AuthRequest } from '../model';
import { canonicalIp, formatIp, parseIp, type IpAddress } from '../restrictions/ip-address';
import { compileCidrList, parseRule } from '../restrictions/cidr';
import { warnOnce } from '../util/warn';
import { boundedMemo } from '../util/memo';

/** Resolves the client address of a request. One resolver serves filters, limits and logs. */
export type AddressResolver = (request: AuthRequest) => string | undefined;

/**
 * Which proxies to believe about the client address:
 * - `false` (default): none — the socket address is the client;
 * - addresses, CIDRs and named ranges (`'loopback'`, `'linklocal'`, `'uniquelocal'`, `'private'`), as an array or a
 *   comma-separated string: the socket and each forwarded hop are believed while they fall in these ranges;
 * - a number `n`: the `n` hops nearest the server are proxies (the socket and `n - 1` forwarded entries), for load
 *   balancers whose addresses are not known in advance;
 * - `true`: every hop is a proxy and the left-most forwarded entry is the client. Anyone can then choose their own
 *   address, so it warns once (`KEYWARD_TRUST_ALL_PROXIES`). Use it only behind a proxy that overwrites the header.
 *   A `/0` range in the list (`0.0.0.0/0`, `::/0`) does the same for its address family and warns the same way.
 */
export type TrustProxy = boolean | number | string | readonly string[];

/** Options of the client-address resolver (part of `createKeyward`'s options). */
export interface AddressOptions {
  /** Proxies whose forwarding header is believed. Default `false`: the socket address only. See {@link TrustProxy}. */
  trustProxy?: TrustProxy;
  /**
   * The forwarding header the trusted proxies write: `'x-forwarded-for'` (default) or `'forwarded'` (RFC 7239).
   * Only one is read: a header the proxies do not write would be entirely under the client's control.
   */
  proxyHeader?: 'x-forwarded-for' | 'forwarded';
}

/** A resolver that also tells whether a request reached the server through a trusted proxy. */
export interface ClientAddressResolver extends AddressResolver {
  /** True when the socket peer is a trusted proxy (so headers it sets, such as a country header, can be believed). */
  viaTrustedProxy(request: AuthRequest): boolean;
}

/** At most this many forwarded hops are examined; beyond them the address is unknown. */
export const MAX_HOPS = 32;
/** At most this many characters of a forwarding header (all values together) are read, from its right end; a walk past them gives an unknown address. */
export const MAX_FORWARDED_LENGTH = 8192;

/** Normalises an address: canonical text, zone id dropped, IPv4-mapped IPv6 as IPv4; `undefined` if not an address. */
export function normaliseAddress(address: string | undefined): string | undefined {
  return address === undefined ? undefined : normalised(address);
}

/** Socket addresses repeat (keep-alive connections, a few proxies): recent answers are remembered, bounded. */
const normalised = boundedMemo((address: string) => canonicalIp(address.trim()), 4096);

/** The default resolver: the socket address only, normalised. Trusted proxies are configured with `trustProxy`. */
export const socketAddress: AddressResolver = (request) => normaliseAddress(request.remoteAddress);

const isPort = (text: string) => /^\d{1,5}$/.test(text) && Number(text) <= 65535;

/**
 * Reads one forwarded hop: an address, optionally with a port (`1.2.3.4:80`, `[2001:db8::1]:443`), brackets, or a
 * zone id. Returns `undefined` for anything else (`unknown`, obfuscated identifiers such as `_hidden`, garbage).
 */
export function parseHop(raw: string): IpAddress | undefined {
  let text = raw.trim();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return undefined;
    const rest = text.slice(end + 1);
    if (rest !== '' && !isPort(rest.slice(1))) return undefined;
    text = text.slice(1, end);
    if (text.indexOf(':') === -1) return undefined;
    return parseIp(text);
  }
  const colon = text.indexOf(':');
  if (colon !== -1 && colon === text.lastIndexOf(':') && text.indexOf('.') !== -1) {
    // IPv4 with a port
    if (!isPort(text.slice(colon + 1))) return undefined;
    text = text.slice(0, colon);
    return text.indexOf(':') === -1 ? parseIp(text) : undefined;
  }
  return parseIp(text);
}

/** Splits on `sep` outside quoted strings (RFC 7230 quoted-string with backslash escapes). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The `for=` value of one RFC 7239 element, unquoted; `undefined` when absent or malformed. */
function forwardedFor(element: string): string | undefined {
  let found: string | undefined;
  for (const pair of splitOutsideQuotes(element, ';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    if (found !== undefined) return undefined; // two `for` parameters: malformed
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"')) return undefined;
      v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    found = v;
  }
  return found;
}

/**
 * The forwarded hops of a request, nearest the server first (right to left), as raw strings. `undefined` means the
 * header is absent.
 */
function forwardedHops(request: AuthRequest, header: 'x-forwarded-for' | 'forwarded'): string[] | undefined {
  const raw = request.headers[header];
  if (raw === undefined) return undefined;
  if (header === 'x-forwarded-for') return xForwardedForHops(raw);
  return forwardedHeaderHops(raw);
}

/**
 * The `for=` values of RFC 7239 `Forwarded`, nearest first, read by a quote-aware scan from the right (where the
 * trusted proxies' own, well-formed elements are) that stops after the hops a walk can use ({@link MAX_HOPS} + 1)
 * and never reads more than the last {@link MAX_FORWARDED_LENGTH} characters. So what a client writes to the left of
 * its own element — 8 KiB of padding, or an unterminated quoted string that a left-to-right parse would let swallow
 * the proxies' elements — cannot make its address unknown (which would skip every per-address limit, the failed-auth
 * block and a country deny-list). An element the scan cannot finish (it reaches the cut, or the start inside a
 * quoted string) is an empty hop: a walk that reaches it gives an unknown address.
 */
function forwardedHeaderHops(raw: string | readonly string[]): string[] {
  // Repeated header lines are one comma-separated list (RFC 9110 §5.3).
  const text = typeof raw === 'string' ? raw : raw.join(',');
  const stop = Math.max(0, text.length - MAX_FORWARDED_LENGTH);
  const hops: string[] = [];
  let end = text.length;
  let quoted = false;
  for (let i = text.length - 1; i >= stop && hops.length <= MAX_HOPS; i--) {
    const c = text.charCodeAt(i);
    if (quoted) {
      if (c !== 0x22) continue;
      let slashes = 0;
      while (i - 1 - slashes >= stop && text.charCodeAt(i - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) quoted = false; // the opening quote; an odd run of backslashes escapes it
    } else if (c === 0x22) quoted = true;
    else if (c === 0x2c) {
      hops.push(forwardedFor(text.slice(i + 1, end)) ?? '');
      end = i;
    }
  }
  if (hops.length <= MAX_HOPS) hops.push(stop === 0 && !quoted ? forwardedFor(text.slice(0, end)) ?? '' : '');
  return hops;
}

/**
 * The hops of `X-Forwarded-For`, nearest first. The walk reads from the right and stops at the first hop that is not
 * a trusted proxy, so of a list longer than {@link MAX_FORWARDED_LENGTH} only its right end is read: padding a client
 * writes to the left of its own entry cannot make its address unknown (which would skip every per-address limit, the
 * failed-auth block and a country deny-list). A walk that reaches the cut finds an empty hop there: the address is
 * unknown.
 */
function xForwardedForHops(raw: string | readonly string[]): string[] {
  // Repeated header lines are one comma-separated list (RFC 9110 §5.3).
  const text = typeof raw === 'string' ? raw : raw.join(',');
  if (text.length <= MAX_FORWARDED_LENGTH) return text.split(',').reverse();
  const tail = text.slice(text.length - MAX_FORWARDED_LENGTH);
  const hops = tail.slice(tail.indexOf(',') + 1).split(',').reverse(); // the left-most entry may be cut: not read
  hops.push('');
  return hops;
}

type TrustCheck = (address: IpAddress, hop: number) => boolean;

/**
 * Checks the `trustProxy` option once and returns the trust test, or `undefined` when no proxy is trusted.
 *
 * @throws TypeError naming the option
 */
export function parseTrustProxy(value: unknown): TrustCheck | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) {
    warnOnce('KEYWARD_TRUST_ALL_PROXIES', 'keyward: "trustProxy: true" believes every X-Forwarded-For/Forwarded entry, so any client can choose its own address; list your proxies instead (e.g. trustProxy: ["loopback", "10.0.0.0/8"]).');
    return () => true;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_HOPS) throw new TypeError(`keyward: option "trustProxy" as a number must be an integer from 0 to ${MAX_HOPS} (the count of proxies in front of the server)`);
    if (value === 0) return undefined;
    return (_address, hop) => hop < value;
  }
  let rules: readonly unknown[];
  if (typeof value === 'string') rules = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  else if (Array.isArray(value)) rules = value;
  else throw new TypeError('keyward: option "trustProxy" must be false, true, a hop count, or a list of addresses, CIDRs and named ranges');
  rules.forEach((r, i) => {
    if (typeof r !== 'string') throw new TypeError(`keyward: option "trustProxy[${i}]" must be a string`);
  });
  if (rules.length === 0) return undefined;
  const list = compileCidrList(rules as string[], (i) => `option "trustProxy[${i}]"`);
  const everyone = rules.findIndex((r) => parseRule(r as string)!.some(([, bits]) => bits === 0));
  if (everyone !== -1) warnOnce('KEYWARD_TRUST_ALL_PROXIES', `keyward: option "trustProxy[${everyone}]" is a /0 range: it believes every X-Forwarded-For/Forwarded entry from that address family, as "trustProxy: true" does, so any client can choose its own address; list your proxies instead (e.g. trustProxy: ["loopback", "10.0.0.0/8"]).`);
  return (address) => list.has(address);
}

/**
 * Builds the one client-address resolver from the options. Without `trustProxy` it is the socket address. With it,
 * the resolver walks from the socket towards the client — the socket, then the forwarding header from right to
 * left — and stops at the first hop that is not a trusted proxy: that hop is the client. Entries to its left were
 * written by the client and are never read.
 *
 * A hop that cannot be parsed (garbage, `unknown`, an obfuscated identifier, one beyond the last
 * {@link MAX_FORWARDED_LENGTH} characters of the header, more than {@link MAX_HOPS} trusted hops) is where the walk stops, and the address is
 * then unknown (`undefined`): IP and country allow-lists deny an unknown address, so a malformed header never widens
 * access. Addresses are canonical (RFC 5952 for IPv6, IPv4-mapped IPv6 as IPv4).
 *
 * @throws TypeError naming the option when `trustProxy` or `proxyHeader` is not valid
 */
export function createAddressResolver(options: AddressOptions = {}): ClientAddressResolver {
  const trust = parseTrustProxy(options.trustProxy);
  const header = options.proxyHeader ?? 'x-forwarded-for';
  if (header !== 'x-forwarded-for' && header !== 'forwarded') throw new TypeError('keyward: option "proxyHeader" must be "x-forwarded-for" or "forwarded"');

  if (!trust) {
    const resolve = ((request: AuthRequest) => socketAddress(request)) as ClientAddressResolver;
    resolve.viaTrustedProxy = () => false;
    return resolve;
  }

  const viaTrustedProxy = (request: AuthRequest): boolean => {
    const socket = request.remoteAddress === undefined ? undefined : parseIp(request.remoteAddress);
    return socket !== undefined && trust(socket, 0);
  };

  const resolve = ((request: AuthRequest): string | undefined => {
    if (request.remoteAddress === undefined) return undefined;
    let current = parseIp(request.remoteAddress);
    if (current === undefined) return undefined;
    if (!trust(current, 0)) return formatIp(current);
    const hops = forwardedHops(request, header);
    if (hops === undefined) return formatIp(current); // a trusted peer that forwards nothing is itself the client
    for (let i = 0; i < hops.length; i++) {
      if (i >= MAX_HOPS) return undefined;
      const next = parseHop(hops[i]!);
      if (next === undefined) return undefined;
      current = next;
      if (!trust(current, i + 1)) return formatIp(current);
    }
    return formatIp(current); // every hop was trusted: the left-most is the client
  }) as ClientAddressResolver;
  resolve.viaTrustedProxy = viaTrustedProxy;
  return resolve;
}

/** True when `resolver` knows about trusted proxies (built by {@link createAddressResolver}). */
export function isClientAddressResolver(resolver: AddressResolver): resolver is ClientAddressResolver {
  return typeof (resolver as Partial<ClientAddressResolver>).viaTrustedProxy === 'function';
}
