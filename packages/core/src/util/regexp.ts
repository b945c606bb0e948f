/**
 * A copy of `re` without the `g` and `y` flags, so `test()` keeps no state (`lastIndex`) between calls and answers the
 * same for the same input every time; `re` itself is never touched. Used for every RegExp taken from the options.
 */
export function statelessRegExp(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
}
