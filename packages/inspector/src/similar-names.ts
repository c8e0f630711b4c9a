/** Finds names that look like a mistyped `name`: same letters ignoring case and separators, or a few edits away. */
export function similarNames(name: string, candidates: Iterable<string>): string[] {
  const key = normalize(name);
  const found = new Set<string>();
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const other = normalize(candidate);
    if (other === key) {
      found.add(candidate);
      continue;
    }
    const shorter = Math.min(key.length, other.length);
    // Short names are a few edits from many others ("low", "slow"): only the normalized match counts for them.
    if (shorter >= 5 && editDistance(key, other) <= (shorter >= 8 ? 2 : 1)) found.add(candidate);
  }
  return [...found].sort();
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_:.\s]/g, '');
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: the optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]![j]!;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      rows[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}
