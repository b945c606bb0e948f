import { compileCidrList } from './cidr';
import type { IpAddress } from './ip-address';
import { checkFields, stringList, type Namer } from './invalid';

/** A compiled IP restriction: true when the address may call. */
export type IpCheck = (address: IpAddress | undefined) => boolean;

/**
 * Compiles an `ip` restriction once. Deny wins; with either list set, an unknown address is refused.
 *
 * @throws TypeError naming the rule that is not valid
 */
export function compileIp(value: unknown, name: Namer, path: string): IpCheck | undefined {
  const v = checkFields(value, ['allow', 'deny'], name, path);
  const allowRules = stringList(v.allow, name, `${path}.allow`, 10_000, 64);
  const denyRules = stringList(v.deny, name, `${path}.deny`, 10_000, 64);
  if (!allowRules && !denyRules) return undefined;
  const allow = allowRules && compileCidrList(allowRules, (i) => name(`${path}.allow[${i}]`));
  const deny = denyRules && compileCidrList(denyRules, (i) => name(`${path}.deny[${i}]`));
  return (address) => {
    if (address === undefined) return false;
    if (deny && deny.has(address)) return false;
    if (allow && !allow.has(address)) return false;
    return true;
  };
}
