/**
 * A case-insensitive matcher that runs in linear time: a pattern without `*` is a substring test; a pattern with `*`
 * is a glob over the whole input, matched by finding its literal pieces left to right (greedy leftmost placement is
 * exact for `*`-only globs, so there is no backtracking). Input is expected lower-cased by the caller.
 */
export type TextMatcher = (lowerInput: string) => boolean;

/** Compiles a pattern into a {@link TextMatcher}. */
export function compileGlob(pattern: string): TextMatcher {
  const p = pattern.toLowerCase();
  if (p.indexOf('*') === -1) return (input) => input.includes(p);
  const pieces = p.split('*');
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((s) => s !== '');
  const minLength = first.length + last.length;
  return (input) => {
    if (input.length < minLength || !input.startsWith(first) || !input.endsWith(last)) return false;
    let at = first.length;
    const end = input.length - last.length;
    for (const piece of middle) {
      const found = input.indexOf(piece, at);
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
