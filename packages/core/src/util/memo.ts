/**
 * `compute` remembering its recent answers, for request-path values that repeat (socket addresses, origins, paths).
 * Memory is bounded: once `max` distinct inputs are remembered, it forgets them all and starts over (no per-entry
 * bookkeeping, so a hit is one map look-up). `compute` must be pure; `undefined` answers are remembered too.
 *
 * @example
 * ```ts
 * const routeOf = boundedMemo((path: string) => normalise(path), 1000);
 * ```
 */
export function boundedMemo<V>(compute: (input: string) => V, max: number): (input: string) => V {
  const answers = new Map<string, V>();
  return (input) => {
    let value = answers.get(input);
    if (value !== undefined || answers.has(input)) return value as V;
    value = compute(input);
    if (answers.size >= max) answers.clear();
    answers.set(input, value);
    return value;
  };
}
