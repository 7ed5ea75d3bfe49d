/**
 * The known name nearest to a typo'd one, for a "did you mean" in the
 * configuration error: `DROUTER_SIP_PORT` (one underscore) is
 * `DROUTER_SIP__PORT`, `admin.adress` is `admin.address`. Distance is the
 * optimal string alignment distance (Levenshtein plus swapping two
 * neighbours, the commonest typo), case ignored; a name needing more than a
 * third of its length in edits is no typo of any key, and none is offered.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const budget = Math.max(1, Math.floor(name.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate.toUpperCase());
    if (distance <= budget && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  // rows[i][j]: edits turning a's first i characters into b's first j.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
