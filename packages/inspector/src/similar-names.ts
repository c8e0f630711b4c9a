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

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
