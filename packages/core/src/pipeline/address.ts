import type { AuthRequest } from '../model';

/** Resolves the client address of a request. One resolver serves filters, limits and logs. */
export type AddressResolver = (request: AuthRequest) => string | undefined;

/** Normalises an address: strips an IPv6 zone id and the IPv4-mapped prefix (`::ffff:1.2.3.4` → `1.2.3.4`). */
export function normaliseAddress(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  let a = address.trim();
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  const lower = a.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.indexOf('.') !== -1) return a.slice(7);
  return lower;
}

/** The default resolver: the socket address only, normalised. Trusted proxies are configured with `trustProxy`. */
export const socketAddress: AddressResolver = (request) => normaliseAddress(request.remoteAddress);
