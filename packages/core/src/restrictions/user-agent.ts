import type { AuthRequest } from '../model';
import { BOT_USER_AGENTS } from './bots';
import { compileGlob, type TextMatcher } from './glob';
import { checkFields, optionalBool, stringList, type Namer } from './invalid';

/** A compiled user-agent restriction: true when the request's user agent may call. */
export type UserAgentCheck = (request: AuthRequest) => boolean;

let botMatchers: TextMatcher[] | undefined;

/**
 * Compiles a `userAgents` restriction once. Deny (and the bot list) wins over allow. A repeated `User-Agent` header
 * is refused. Without a user agent, only `require` and `allow` refuse. Matching is linear in the header's length.
 *
 * @throws TypeError naming the pattern that is not valid
 */
export function compileUserAgents(value: unknown, name: Namer, path: string): UserAgentCheck | undefined {
  const v = checkFields(value, ['allow', 'deny', 'denyBots', 'require'], name, path);
  const allowRules = stringList(v.allow, name, `${path}.allow`, 1000, 256);
  const denyRules = stringList(v.deny, name, `${path}.deny`, 1000, 256);
  const denyBots = optionalBool(v.denyBots, name, `${path}.denyBots`) ?? false;
  const required = optionalBool(v.require, name, `${path}.require`) ?? false;
  if (!allowRules && !denyRules && !denyBots && !required) return undefined;
  const allow = allowRules?.map(compileGlob);
  const deny = [...(denyRules ?? []).map(compileGlob), ...(denyBots ? (botMatchers ??= BOT_USER_AGENTS.map(compileGlob)) : [])];
  return (request) => {
    const raw = request.headers['user-agent'];
    if (raw !== undefined && typeof raw !== 'string') return false;
    if (raw === undefined || raw === '') return !required && !allow;
    const ua = raw.toLowerCase();
    for (const m of deny) if (m(ua)) return false;
    if (allow) {
      for (const m of allow) if (m(ua)) return true;
      return false;
    }
    return true;
  };
}
