/**
 * Runs the bench: starts a redis-server of its own, runs every selected row for every system round by
 * round (systems in a rotating order, so that @q and BullMQ alternate and neither always goes first),
 * each measurement in a fresh child process on a flushed Redis, and writes a report.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../test/redis-server';
import type { BenchOptions } from './bench-options';
import type { MeasurementRequest, MeasurementResult, SystemName } from './measurement';
import { parseInfo } from './redis-activity';
import { runMeasurement } from './run-measurement';
import { renderTable, summarizeRow, type RowSummary } from './report-table';
import { buildScenarios } from './scenarios';

export interface RunRecord {
  system: SystemName;
  round: number;
  result?: MeasurementResult;
  error?: string;
  /** The row whose measurement of the same request in the same round this reuses. */
  reusedFrom?: string;
}

export interface RowReport extends RowSummary {
  scenario: string;
  request: MeasurementRequest;
  runs: RunRecord[];
}

export interface BenchReport {
  meta: {
    startedAt: string;
    durationSeconds: number;
    node: string;
    platform: string;
    cpus: { count: number; model: string };
    totalMemoryBytes: number;
    redis: string;
    bullmq: string;
    commit: string | undefined;
    /** What ran: the built packages (`dist`, as users install them) or the sources through tsx. */
    packages: 'built' | 'sources';
    /** 1-minute load average when the run started and ended: other work on the machine shows here. */
    loadAverage: { start: number; end: number };
  };
  options: Omit<BenchOptions, 'outputDirectory' | 'inProcess' | 'sources'>;
  rows: RowReport[];
}

export interface BenchOutcome {
  report: BenchReport;
  table: string;
  jsonPath: string;
  markdownPath: string;
}

const benchDirectory = dirname(dirname(fileURLToPath(import.meta.url)));
const measurementProcess = fileURLToPath(new URL('./measurement-process.ts', import.meta.url));

/**
 * Builds the packages the bench measures (turbo: only what changed since the last build), so that the
 * measurement processes run `dist` as users do.
 */
function buildPackages(log: (line: string) => void): void {
  log('building the @q packages the bench measures (turbo run build)');
  const root = dirname(benchDirectory);
  try {
    execFileSync(
      join(root, 'node_modules', '.bin', 'turbo'),
      ['run', 'build', '--filter=@q/bench^...', '--output-logs=errors-only'],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  } catch (error) {
    throw new Error(
      `Could not build the packages to measure (${error instanceof Error ? error.message : String(error)}); fix the build, or measure the sources with --sources.`,
    );
  }
}

export async function runBench(options: BenchOptions, log: (line: string) => void): Promise<BenchOutcome> {
  if (!options.sources && !options.inProcess) buildPackages(log);
  const startedAt = new Date();
  const loadStart = loadavg()[0] ?? 0;
  const redisServer = await startRedisServer();
  const admin = new Redis(redisServer.url);
  const rows: RowReport[] = [];
  try {
    const redisVersion = parseInfo(await admin.info('server')).get('redis_version') ?? 'unknown';
    log(`redis-server ${redisVersion} on port ${redisServer.port}; ${options.rounds} round(s)`);
    const memo = new Map<string, { rowId: string; record: RunRecord }>();
    const scenarios = buildScenarios(options.sizes).filter((scenario) =>
      options.scenarios.includes(scenario.name),
    );
    for (const scenario of scenarios) {
      log(`\n== ${scenario.name}: ${scenario.description}`);
      for (const row of scenario.rows) {
        const systems = options.systems.filter((system) => row.systems.includes(system));
        const runs: RunRecord[] = [];
        for (let round = 0; round < options.rounds; round++) {
          for (const system of rotate(systems, round)) {
            const key = `${system}|${round}|${JSON.stringify(row.request)}`;
            const earlier = memo.get(key);
            if (earlier) {
              runs.push({ ...earlier.record, reusedFrom: earlier.rowId });
              continue;
            }
            await admin.flushall();
            const record: RunRecord = { system, round };
            try {
              record.result = options.inProcess
                ? await runMeasurement(system, redisServer.url, row.request)
                : await measureInChild(system, redisServer.url, row.request, {
                    sources: options.sources === true,
                    profilePath: options.profile
                      ? join(
                          options.outputDirectory,
                          'profiles',
                          `${row.id}-${system}-round${round + 1}.cpuprofile`,
                        )
                      : undefined,
                  });
            } catch (error) {
              record.error = error instanceof Error ? error.message : String(error);
            }
            memo.set(key, { rowId: row.id, record });
            runs.push(record);
            log(`  ${row.id} round ${round + 1}/${options.rounds} ${system}: ${describe(record)}`);
          }
        }
        rows.push({ scenario: scenario.name, request: row.request, runs, ...summarizeRow(row, runs) });
      }
    }
    await admin.flushall();
    const report: BenchReport = {
      meta: {
        startedAt: startedAt.toISOString(),
        durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: { count: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
        totalMemoryBytes: totalmem(),
        redis: redisVersion,
        bullmq: bullmqVersion(),
        commit: gitCommit(),
        packages: options.sources || options.inProcess ? 'sources' : 'built',
        loadAverage: { start: loadStart, end: loadavg()[0] ?? 0 },
      },
      options: {
        sizes: options.sizes,
        rounds: options.rounds,
        scenarios: options.scenarios,
        systems: options.systems,
        profile: options.profile,
      },
      rows,
    };
    const table = renderTable(report);
    mkdirSync(options.outputDirectory, { recursive: true });
    const stamp = startedAt
      .toISOString()
      .replace(/[:.]/g, '-')
      .replace(/-\d{3}Z$/, 'Z');
    const jsonPath = join(options.outputDirectory, `bench-${stamp}.json`);
    const markdownPath = join(options.outputDirectory, `bench-${stamp}.md`);
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(markdownPath, `${table}\n`);
    return { report, table, jsonPath, markdownPath };
  } finally {
    await admin.quit();
    await redisServer.stop();
  }
}

function rotate<Item>(items: readonly Item[], by: number): Item[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function describe(record: RunRecord): string {
  if (record.error) return `failed: ${record.error.split('\n')[0] ?? ''}`;
  return Object.entries(record.result?.metrics ?? {})
    .map(([name, value]) => `${name}=${value < 100 ? value.toFixed(2) : Math.round(value)}`)
    .join(' ');
}

/** Rough upper bound for one measurement, so that a hung worker fails its row instead of the run. */
function timeoutFor(request: MeasurementRequest): number {
  switch (request.kind) {
    case 'enqueue-each':
    case 'enqueue-bulk':
    case 'memory':
      return 120_000 + request.count * 3;
    case 'drain':
      return 120_000 + Object.keys(request.queues).length * request.perQueue * 3;
    case 'pickup':
      return 120_000 + request.samples * (request.gapMs + 100);
  }
}

function measureInChild(
  system: SystemName,
  url: string,
  request: MeasurementRequest,
  profiling: { profilePath: string | undefined; sources: boolean },
): Promise<MeasurementResult> {
  // Without the `@q/source` condition, `@q/*` imports resolve to the packages' `dist` (what users run).
  const execArgv = profiling.sources ? ['--conditions=@q/source', '--import', 'tsx'] : ['--import', 'tsx'];
  if (profiling.profilePath) mkdirSync(dirname(profiling.profilePath), { recursive: true });
  const child = fork(measurementProcess, [], {
    cwd: benchDirectory,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let answered = false;
    const timeout = timeoutFor(request);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the measurement did not finish within ${Math.round(timeout / 1000)} s`));
    }, timeout);
    child.once('message', (message: { result?: MeasurementResult; error?: string }) => {
      answered = true;
      clearTimeout(timer);
      if (message.result) resolve(message.result);
      else reject(new Error(message.error ?? 'the measurement failed'));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!answered)
        reject(new Error(`the measurement process exited (${signal ?? `code ${code}`}) without a result`));
    });
    child.send({ system, url, request, profilePath: profiling.profilePath });
  });
}

function bullmqVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('bullmq/package.json') as { version: string }).version;
}

/** The commit the run measured, marked `-dirty` when the work tree had changes. */
function gitCommit(): string | undefined {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: benchDirectory, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    return git('status', '--porcelain', '--untracked-files=no').trim() ? `${commit}-dirty` : commit;
  } catch {
    return undefined;
  }
}
