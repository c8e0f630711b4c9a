/**
 * One run of a battery scenario: its own ledger Redis, worker and producer processes against the queue
 * Redis the scenario chose, the faults it made (for tracing duplicates), and the audit at the end.
 * Everything it started is stopped by `dispose()`.
 */
import { randomUUID } from 'node:crypto';
import { TaskNotFoundError, silentLogger } from '@q/core';
import type { RedisBroker } from '@q/broker-redis';
import { startRedisServer, type RedisServerHandle } from '../../../test/redis-server';
import { spawnChild, type ChildHandle, type LogLine } from './child-process-handle';
import { Ledger, type LedgerRun } from './ledger';
import { createBroker, type BrokerTarget, type ProducerConfig, type WorkerConfig } from './process-config';

/** A fault, for tracing duplicates: a process killed or cut, or Redis itself down, from `at` to `until`. */
export interface FaultEvent {
  kind: string;
  at: number;
  until: number;
  /** The process concerned; absent when Redis itself was hit (every worker is concerned). */
  pid?: number;
  worker?: string;
}

export interface AuditResult {
  acked: number;
  terminal: number;
  completed: number;
  archived: number;
  lost: { id: string; state: string }[];
  runs: number;
  tasksRunTwice: number;
  /** Duplicate runs (every run of a task but its last) that no fault explains. */
  unexplainedDuplicates: { id: string; runs: LedgerRun[] }[];
}

export interface ScenarioOptions {
  target: Omit<BrokerTarget, 'prefix'>;
  queues: string[];
  /** The broker the test process uses to audit (defaults to one on `target`). */
  auditTarget?: Omit<BrokerTarget, 'prefix'>;
}

const leaseDuration = 5000;

export class Scenario {
  readonly prefix = `qf-${randomUUID().slice(0, 8)}`;
  readonly workers = new Map<string, ChildHandle>();
  /** Every worker process ever started, including killed ones. */
  readonly allWorkers: ChildHandle[] = [];
  readonly producers: ChildHandle[] = [];
  readonly faults: FaultEvent[] = [];
  readonly broker: RedisBroker;

  private constructor(
    readonly options: ScenarioOptions,
    private readonly ledgerServer: RedisServerHandle,
    readonly ledger: Ledger,
  ) {
    this.broker = createBroker(
      { ...(options.auditTarget ?? options.target), prefix: this.prefix },
      silentLogger,
    );
    this.broker.connection.on('error', () => undefined);
  }

  static async create(options: ScenarioOptions): Promise<Scenario> {
    const ledgerServer = await startRedisServer();
    return new Scenario(options, ledgerServer, new Ledger(ledgerServer.url, 'ledger'));
  }

  get target(): BrokerTarget {
    return { ...this.options.target, prefix: this.prefix };
  }

  /** Starts (or restarts) worker `name` and waits until it runs. */
  async startWorker(
    name: string,
    overrides: Partial<Omit<WorkerConfig, 'name' | 'ledgerUrl' | 'ledgerPrefix'>> = {},
  ): Promise<ChildHandle> {
    const config: WorkerConfig = {
      name,
      target: this.target,
      ledgerUrl: this.ledgerServer.url,
      ledgerPrefix: 'ledger',
      queues: Object.fromEntries(this.options.queues.map((queue) => [queue, 1])),
      concurrency: 8,
      leaseDuration,
      shutdownTimeout: 3000,
      ...overrides,
    };
    const handle = spawnChild({
      name,
      script: './fault-worker.ts',
      env: { Q_FAULT_WORKER: JSON.stringify(config) },
      // Memory reports include the heap left after a full collection, which needs gc() exposed.
      nodeOptions: config.memoryReportInterval ? ['--expose-gc'] : [],
    });
    this.workers.set(name, handle);
    this.allWorkers.push(handle);
    await handle.waitForLine((line) => line.msg.startsWith('worker running'), 60_000);
    return handle;
  }

  startProducer(
    overrides: Partial<Omit<ProducerConfig, 'ledgerUrl' | 'ledgerPrefix'>> & { count: number; rate: number },
  ): ChildHandle {
    const config: ProducerConfig = {
      target: this.target,
      ledgerUrl: this.ledgerServer.url,
      ledgerPrefix: 'ledger',
      queues: this.options.queues,
      workMs: [5, 50],
      ...overrides,
    };
    const handle = spawnChild({
      name: `producer-${this.producers.length + 1}`,
      script: './fault-producer.ts',
      env: { Q_FAULT_PRODUCER: JSON.stringify(config) },
    });
    this.producers.push(handle);
    return handle;
  }

  /** Waits for a producer's final line. */
  async producerDone(
    producer: ChildHandle,
    timeoutMs: number,
  ): Promise<{ acked: number; failed: number; errors: Record<string, number> }> {
    const line = await producer.waitForLine((entry) => entry.event === 'producer-done', timeoutMs);
    return {
      acked: Number(line.acked),
      failed: Number(line.failed),
      errors: (line.errors ?? {}) as Record<string, number>,
    };
  }

  /** SIGKILLs worker `name` and records the fault. */
  async killWorker(name: string): Promise<void> {
    const handle = this.workers.get(name);
    if (!handle?.running) return;
    const at = Date.now();
    handle.kill('SIGKILL');
    await handle.exited;
    this.faults.push({ kind: 'sigkill', at, until: Infinity, pid: handle.pid, worker: name });
  }

  recordFault(event: FaultEvent): void {
    this.faults.push(event);
  }

  /** Every log line of every worker process, with the worker's name. */
  workerLines(): (LogLine & { workerName: string })[] {
    return this.allWorkers.flatMap((handle) =>
      handle.lines.map((line) => ({ ...line, workerName: handle.name })),
    );
  }

  /**
   * Waits until no task of the queues is pending, active, scheduled or in retry, and at least `expected`
   * are completed or archived; returns when, or throws.
   */
  async waitForDrain(expected: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const stats = await Promise.all(
          this.options.queues.map((queue) => this.broker.queueStats(queue, Date.now())),
        );
        const sum = (field: 'pending' | 'active' | 'scheduled' | 'retry' | 'completed' | 'archived') =>
          stats.reduce((total, entry) => total + entry[field], 0);
        const open = sum('pending') + sum('active') + sum('scheduled') + sum('retry');
        last = `open ${open} (pending ${sum('pending')}, active ${sum('active')}, retry ${sum('retry')}), completed ${sum('completed')}, archived ${sum('archived')}, expected ${expected}`;
        if (open === 0 && sum('completed') + sum('archived') >= expected) return Date.now();
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`not drained within ${timeoutMs} ms: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Checks the ledger against the queues: lost tasks, and duplicates no fault explains. */
  async audit(options: { explainAll?: (run: LedgerRun) => boolean } = {}): Promise<AuditResult> {
    const acked = await this.ledger.acked();
    const runs = await this.ledger.runs();
    const states = new Map<string, string>();
    await Promise.all(
      [...acked].map(async ([id, queue]) => {
        try {
          states.set(id, (await this.broker.getTask(queue, id)).state);
        } catch (error) {
          states.set(
            id,
            error instanceof TaskNotFoundError ? 'missing' : `error: ${(error as Error).message}`,
          );
        }
      }),
    );
    const count = (state: string) => [...states.values()].filter((value) => value === state).length;
    const lost = [...states].filter(([, state]) => state !== 'completed' && state !== 'archived');
    const explained = (run: LedgerRun): boolean =>
      options.explainAll?.(run) === true ||
      this.faults.some(
        (fault) =>
          (fault.pid === undefined || fault.pid === run.pid) &&
          run.at <= fault.until &&
          run.at >= fault.at - 120_000,
      );
    const unexplained: { id: string; runs: LedgerRun[] }[] = [];
    let tasksRunTwice = 0;
    let runCount = 0;
    for (const [id, list] of runs) {
      runCount += list.length;
      if (list.length < 2) continue;
      tasksRunTwice += 1;
      const ordered = [...list].sort((a, b) => a.at - b.at);
      if (!ordered.slice(0, -1).every(explained)) unexplained.push({ id, runs: ordered });
    }
    return {
      acked: acked.size,
      terminal: count('completed') + count('archived'),
      completed: count('completed'),
      archived: count('archived'),
      lost: lost.map(([id, state]) => ({ id, state })),
      runs: runCount,
      tasksRunTwice,
      unexplainedDuplicates: unexplained,
    };
  }

  async dispose(): Promise<void> {
    for (const handle of [...this.allWorkers, ...this.producers]) handle.kill('SIGKILL');
    await Promise.all([...this.allWorkers, ...this.producers].map((handle) => handle.exited));
    await Promise.race([this.broker.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    this.broker.connection.disconnect();
    await this.ledger.close();
    await this.ledgerServer.stop();
  }
}

/** Prints a figure so that the run's output can be quoted (docs/reliability.md). */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  const scaleLabel = process.env.Q_FAULTS === 'full' ? 'full' : 'ci (shortened)';
  process.stdout.write(`[figure] ${test} [${scaleLabel}] ${JSON.stringify(figures)}\n`);
}

/** Percentile of `values` (0-100). */
export function percentile(values: readonly number[], rank: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((rank / 100) * sorted.length))]!;
}
