/**
 * Two sizes of every scenario: `ci` (the default, what `npm test` runs: shortened, clearly labelled in the
 * figures) and `full` (the sizes in docs/reliability.md, `pnpm test:faults`, which sets `Q_FAULTS=full`).
 */
export type Scale = 'ci' | 'full';

export const scale: Scale = process.env.Q_FAULTS === 'full' ? 'full' : 'ci';

/** The value for the current scale. */
export function sized<T>(values: { ci: T; full: T }): T {
  return values[scale];
}

/** A test's time limit: the expected length plus room for process start-up on a loaded machine. */
export function timeLimit(expectedMs: number): number {
  return expectedMs + 60_000;
}
