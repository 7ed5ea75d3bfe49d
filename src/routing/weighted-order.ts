/**
 * Weighted random permutation (OpenSIPS sort_alg W): repeatedly draw one of
 * the remaining entries with probability weight / sum of remaining weights.
 * Zero-weight entries come after every weighted one, in uniform random
 * order among themselves (OpenSIPS PR #3867; before it, always the first).
 * `random` returns a number in [0, 1).
 */
export function weightedOrder<T extends { readonly weight: number }>(items: readonly T[], random: () => number): T[] {
  const weighted = items.filter((item) => item.weight > 0);
  const unweighted = items.filter((item) => item.weight <= 0);
  const ordered: T[] = [];
  let total = weighted.reduce((sum, item) => sum + item.weight, 0);
  while (weighted.length > 0) {
    let point = random() * total;
    let index = 0;
    // The last entry takes any rounding remainder, so a draw never falls off the end.
    while (index < weighted.length - 1 && point >= (weighted[index]?.weight ?? 0)) {
      point -= weighted[index]?.weight ?? 0;
      index++;
    }
    const [drawn] = weighted.splice(index, 1);
    if (!drawn) break;
    ordered.push(drawn);
    total -= drawn.weight;
  }
  while (unweighted.length > 0) {
    const [drawn] = unweighted.splice(Math.min(Math.floor(random() * unweighted.length), unweighted.length - 1), 1);
    if (drawn) ordered.push(drawn);
  }
  return ordered;
}
