/**
 * Where sort_alg W puts the entries of weight 0 (a weight written `=0`, or
 * none: OpenSIPS reads a missing weight as 0) once every weighted one is
 * drawn: `list`, OpenSIPS 3.5.9, takes them in the order its draws left
 * them (every weight 0: list order); `random`, OpenSIPS master (PR #3867,
 * in no 3.x release), draws them uniformly.
 */
export type ZeroWeightOrder = 'list' | 'random';

/**
 * Weighted random permutation (OpenSIPS sort_alg W), as 3.5.9's
 * weight_based_sort (drouting.c) does it: draw one of the remaining entries
 * with probability weight / sum of remaining weights, swap it with the first
 * remaining one, go on with the rest; the last entry is not drawn. The swap
 * is why `1=0,2=0,3=5` comes out 3, 2, 1. A negative weight counts as 0
 * (3.5.9 reads it as a huge unsigned one: docs/routing.md, "Where we differ"").
 * `random` returns a number in [0, 1).
 */
export function weightedOrder<T extends { readonly weight: number }>(
  items: readonly T[],
  random: () => number,
  zeroWeightOrder: ZeroWeightOrder,
): T[] {
  const order = [...items];
  const weightAt = (index: number) => Math.max(0, order[index]?.weight ?? 0);
  for (let first = 0; first < order.length - 1; first++) {
    let total = 0;
    for (let index = first; index < order.length; index++) total += weightAt(index);
    let chosen = first;
    if (total > 0) {
      // The first entry whose running sum passes the draw; a weight-0 entry never does.
      const point = Math.floor(random() * total);
      let sum = 0;
      for (chosen = first; chosen < order.length - 1; chosen++) {
        sum += weightAt(chosen);
        if (sum > point) break;
      }
    } else if (zeroWeightOrder === 'random') {
      chosen = first + Math.min(Math.floor(random() * (order.length - first)), order.length - first - 1);
    }
    const drawn = order[chosen] as T;
    order[chosen] = order[first] as T;
    order[first] = drawn;
  }
  return order;
}
