import type { AuthRequest } from '../model';
import { BOT_USER_AGENTS } from './bots';
import { compileGlob, type TextMatcher } from './glob';
import { checkFields, invalid, optionalBool, stringList, type Namer } from './invalid';

/** A compiled user-agent restriction: true when the request's user agent may call. */
export type UserAgentCheck = (request: AuthRequest) => boolean;

let botMatchers: TextMatcher[] | undefined;

/**
 * What only a regular expression holds, never a user agent: an anchor at either end, a leading `.*`, `.+`, a backslash
 * escape, an alternation or a group flag. Such a pattern, read as text, would match nothing (a deny rule denying no
 * one). A `.*` further on is a glob's literal dot and wildcard (`acme-sdk/1.*`).
 */
const REGEX_RE = /^\^|\$$|^\.\*|\.\+|[\\|]|\(\?/;

function patterns(value: unknown, name: Namer, path: string): readonly string[] | undefined {
  const list = stringList(value, name, path, 1000, 256);
  list?.forEach((p, i) => {
    if (REGEX_RE.test(p)) throw invalid(name(`${path}[${i}]`), 'looks like a regular expression, which is not accepted: write a substring ("curl/") or a "*" glob over the whole user agent ("Mozilla/5.0 *")');
  });
  return list;
}

/**
 * Compiles a `userAgents` restriction once. Deny (and the bot list) wins over allow. A repeated `User-Agent` header
 * is refused. Without a user agent, only `require` and `allow` refuse. Matching is linear in the header's length.
 * A pattern written as a regular expression (`^curl`, `.*bot`, `curl|wget`) is refused.
 *
 * @throws TypeError naming the pattern that is not valid
 */
export function compileUserAgents(value: unknown, name: Namer, path: string): UserAgentCheck | undefined {
  const v = checkFields(value, ['allow', 'deny', 'denyBots', 'require'], name, path);
  const allowRules = patterns(v.allow, name, `${path}.allow`);
  const denyRules = patterns(v.deny, name, `${path}.deny`);
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
