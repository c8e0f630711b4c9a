/**
 * Smoke test of the harness, not a benchmark: every scenario with tiny sizes, one round, measurements
 * in this process, against a redis-server the bench starts itself. Checks that the JSON report is
 * well formed and complete.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseBenchArguments, UsageError } from './bench-options';
import type { BenchReport } from './run-bench';
import { runBench } from './run-bench';
import { scenarioNames, type BenchSizes } from './scenarios';

const tinySizes: BenchSizes = {
  enqueueCount: 200,
  enqueueInFlight: 20,
  bulkCount: 300,
  bulkBatchSize: 100,
  drainCount: 300,
  pickupSamples: 10,
  pickupGapMs: 1,
  memoryCount: 300,
  weightedPerQueue: 100,
  backlogSizes: [100, 300],
  queueScalingTotal: 300,
  queueCounts: [1, 3],
};

const outputDirectory = mkdtempSync(join(tmpdir(), 'q-bench-'));
afterAll(() => rmSync(outputDirectory, { recursive: true, force: true }));

it('runs every scenario for every system and writes a well-formed JSON report', async () => {
  const outcome = await runBench(
    {
      sizes: tinySizes,
      rounds: 1,
      scenarios: [...scenarioNames],
      systems: ['q', 'bullmq', 'floor'],
      profile: false,
      outputDirectory,
      inProcess: true,
    },
    () => undefined,
  );
  const report = JSON.parse(readFileSync(outcome.jsonPath, 'utf8')) as BenchReport;

  expect(report.meta.redis).toMatch(/^\d+\.\d+/);
  expect(report.meta.bullmq).toBe('6.7.0');
  // Measured in this process, which runs the sources (a normal run builds the packages and measures dist).
  expect(report.meta.packages).toBe('sources');
  expect(report.rows.map((row) => row.id)).toEqual([
    'enqueue-each',
    'enqueue-bulk',
    'drain-c10',
    'drain-c50',
    'pickup',
    'memory',
    'memory-500b',
    'weighted',
    'limits-c50',
    'backlog-100',
    'backlog-300',
    'queues-1',
    'queues-3',
  ]);
  for (const row of report.rows) {
    expect(row.errors, row.id).toEqual([]);
    const systems =
      row.id === 'weighted' || row.id.startsWith('limits') ? ['bullmq', 'q'] : ['bullmq', 'floor', 'q'];
    expect(row.runs.map((run) => run.system).sort(), row.id).toEqual(systems);
    for (const metric of row.metrics) {
      for (const system of systems) {
        const value = metric.median[system as 'q'];
        expect(Number.isFinite(value) && (value ?? 0) > 0, `${row.id} ${metric.key} ${system}`).toBe(true);
      }
      expect(Number.isFinite(metric.ratio), `${row.id} ${metric.key} ratio`).toBe(true);
    }
  }
  // The same request in the same round is measured once: backlog-300 reuses drain-c50.
  expect(report.rows.find((row) => row.id === 'backlog-300')?.runs.every((run) => run.reusedFrom)).toBe(true);
  const drain = report.rows.find((row) => row.id === 'drain-c10');
  expect(drain?.runs.find((run) => run.system === 'q')?.result?.redis?.callsPerTask).toBeGreaterThan(0);
  expect(outcome.table).toContain('| drain 300, concurrency 10 | throughput (tasks/s) |');
  expect(outcome.table).toContain('; sources through tsx');
}, 60_000);

it('measures the built packages unless told --sources', () => {
  const defaults = parseBenchArguments([], outputDirectory);
  expect(defaults.sources).toBe(false);
  expect(parseBenchArguments(['--sources', '--quick'], outputDirectory).sources).toBe(true);
  expect(() => parseBenchArguments(['--source'], outputDirectory)).toThrow(UsageError);
});
