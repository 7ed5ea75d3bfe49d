/**
 * A function's results remembered by key, for keys that come from the
 * network (header names) or from rows (a peer's permit/deny): at most `max`
 * of them, so that a flood of new keys costs the computation again rather
 * than memory. `known` seeds the exceptions to the rule the function
 * computes.
 */
export function boundedMemo<T>(
  compute: (key: string) => T,
  max: number,
  known: Iterable<readonly [string, T]> = [],
): (key: string) => T {
  const results = new Map<string, T>(known);
  return (key) => {
    const remembered = results.get(key);
    if (remembered !== undefined) return remembered;
    const result = compute(key);
    if (results.size < max) results.set(key, result);
    return result;
  };
}
