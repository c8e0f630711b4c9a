/** Turns the runs of each row into medians and ratios, and the report into a Markdown table. */
import type { SystemName } from './measurement';
import type { BenchReport, RunRecord } from './run-bench';
import type { MetricSpec, ScenarioRow } from './scenarios';
import { median } from './statistics';

export interface MetricSummary extends MetricSpec {
  /** Every round's figure, by system (failed rounds left out). */
  values: Partial<Record<SystemName, number[]>>;
  median: Partial<Record<SystemName, number>>;
  /** @q / BullMQ: the median of the per-round ratios (rounds interleave the two, so pairs share conditions). */
  ratio?: number;
  /** @q's median over BullMQ's median, for comparison. */
  ratioOfMedians?: number;
  goalMet?: boolean;
  /** How close each system gets to the floor: 1 means as good as bare Redis. */
  shareOfFloor: Partial<Record<'q' | 'bullmq', number>>;
}

export interface RowSummary {
  id: string;
  label: string;
  metrics: MetricSummary[];
  errors: { system: SystemName; round: number; error: string }[];
}

export function summarizeRow(row: ScenarioRow, runs: readonly RunRecord[]): RowSummary {
  const errors = runs.flatMap((run) =>
    run.error ? [{ system: run.system, round: run.round, error: run.error }] : [],
  );
  const metrics = row.metrics.map((spec): MetricSummary => {
    const values: MetricSummary['values'] = {};
    const byRound = new Map<number, Partial<Record<SystemName, number>>>();
    for (const run of runs) {
      const value = run.result?.metrics[spec.key];
      if (value === undefined || !Number.isFinite(value)) continue;
      (values[run.system] ??= []).push(value);
      byRound.set(run.round, { ...byRound.get(run.round), [run.system]: value });
    }
    const medians: MetricSummary['median'] = {};
    for (const [system, list] of Object.entries(values) as [SystemName, number[]][]) {
      medians[system] = median(list);
    }
    const summary: MetricSummary = { ...spec, values, median: medians, shareOfFloor: {} };
    const pairs = [...byRound.values()].flatMap((round) =>
      round.q !== undefined && round.bullmq !== undefined && round.bullmq !== 0
        ? [round.q / round.bullmq]
        : [],
    );
    if (pairs.length > 0) summary.ratio = median(pairs);
    if (medians.q !== undefined && medians.bullmq) summary.ratioOfMedians = medians.q / medians.bullmq;
    if (summary.ratio !== undefined && spec.goal !== undefined) {
      summary.goalMet = spec.better === 'higher' ? summary.ratio >= spec.goal : summary.ratio <= spec.goal;
    }
    for (const system of ['q', 'bullmq'] as const) {
      const value = medians[system];
      const floor = medians.floor;
      if (value === undefined || floor === undefined || value === 0 || floor === 0) continue;
      summary.shareOfFloor[system] = spec.better === 'higher' ? value / floor : floor / value;
    }
    return summary;
  });
  return { id: row.id, label: row.label, metrics, errors };
}

function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined) return '—';
  if (unit === 'ms' || unit === 'µs') return value < 10 ? value.toFixed(2) : value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

function formatShare(value: number | undefined): string {
  return value === undefined ? '—' : `${Math.round(value * 100)}%`;
}

function formatGoal(metric: MetricSummary): string {
  if (metric.goal === undefined) return '';
  const target = `${metric.better === 'higher' ? '≥' : '≤'} ${metric.goal}`;
  if (metric.goalMet === undefined) return target;
  return `${target} ${metric.goalMet ? 'met' : 'MISSED'}`;
}

export function renderTable(report: BenchReport): string {
  const { meta, options } = report;
  const lines = [
    `@q vs BullMQ ${meta.bullmq} on Redis ${meta.redis}, Node ${meta.node}, ${meta.cpus.count} × ${meta.cpus.model}; ` +
      `${options.rounds} round(s), medians; started ${meta.startedAt}, took ${meta.durationSeconds} s; ` +
      `load average ${meta.loadAverage.start.toFixed(2)} → ${meta.loadAverage.end.toFixed(2)}` +
      (meta.commit ? `; commit ${meta.commit}` : '') +
      (meta.packages === 'sources' ? '; sources through tsx' : '; built packages'),
    '',
    '| scenario | metric | @q | BullMQ | @q / BullMQ | goal | Redis floor | @q of floor | BullMQ of floor |',
    '|---|---|--:|--:|--:|---|--:|--:|--:|',
  ];
  for (const row of report.rows) {
    for (const metric of row.metrics) {
      const ratio = metric.ratio === undefined ? '—' : `${metric.ratio.toFixed(2)}×`;
      lines.push(
        `| ${row.label} | ${metric.label} (${metric.unit}) | ${formatValue(metric.median.q, metric.unit)} | ` +
          `${formatValue(metric.median.bullmq, metric.unit)} | ${ratio} | ${formatGoal(metric)} | ` +
          `${formatValue(metric.median.floor, metric.unit)} | ${formatShare(metric.shareOfFloor.q)} | ` +
          `${formatShare(metric.shareOfFloor.bullmq)} |`,
      );
    }
    for (const failure of row.errors) {
      lines.push(
        `| ${row.label} | failed: ${failure.system}, round ${failure.round + 1}: ${failure.error.split('\n')[0] ?? ''} | | | | | | | |`,
      );
    }
  }
  lines.push(
    '',
    '@q / BullMQ is the median of per-round ratios; for throughput higher is better, for latency and memory lower is. ' +
      '"of floor" is how close a queue gets to bare Redis doing the minimum per task (100% = as fast or as small).',
  );
  return lines.join('\n');
}
