import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  type Duration,
  type Logger,
  QueueNotFoundError,
  type ServerLifecycle,
  type ServerState,
  ShutdownError,
  ValidationError,
  type WorkerState,
  toMilliseconds,
} from '@q/core';
import { BrokerReachability } from './broker-reachability';
import { CancelSubscriber } from './cancel-subscriber';
import { createForwarder } from './forwarder';
import { createGroupAggregation } from './group-aggregator';
import type { Handler, HandlerFunction } from './handler';
import { createHealthCheck } from './health-check';
import { createJanitor } from './janitor';
import { PeriodicTask } from './periodic-task';
import { type ActiveTask, Processor } from './processor';
import { createRecoverer } from './recoverer';
import { createStoreWatch } from './store-watch';
import { type ResolvedServerOptions, type ServerOptions, resolveServerOptions } from './server-options';
import { sleep, withTimeout } from './timing';

/**
 * Where a server is in its life: `new` → `running` ⇄ `quiet` → `draining` → `closed`. Quiet takes no new
 * tasks; draining waits for running tasks and, at its deadline, aborts and requeues the rest (published
 * as `forced` in the server's lifecycle state).
 */
export type ServerLifecycleState = 'new' | 'running' | 'quiet' | 'draining' | 'closed';

export interface ServerStateChange {
  from: ServerLifecycleState;
  to: ServerLifecycleState;
  /** Unix milliseconds. */
  at: number;
}

export interface BrokerReachabilityChange {
  reachable: boolean;
  /** Why the broker counts as unreachable. */
  error?: Error;
  /** Unix milliseconds. */
  at: number;
}

export interface RecordedSignal {
  signal: string;
  /** Unix milliseconds. */
  at: number;
}

/** A task holding one of the server's slots. */
export interface RunningTask {
  id: string;
  type: string;
  queue: string;
  /** Unix milliseconds. */
  startedAt: number;
  /** When its timeout or deadline ends the attempt, Unix milliseconds. */
  deadline: number;
  /** Its signal was aborted (timeout, deadline, cancel, lease lost, shutdown) and its handler has not settled. */
  overdue: boolean;
}

export interface ShutdownOptions {
  /**
   * How long to wait for running tasks before aborting them and putting them back in pending.
   * @default the server's `shutdownTimeout` ('8s')
   */
  timeout?: Duration;
  /**
   * Abort running tasks and requeue them at once, without waiting. Also hastens a shutdown in progress.
   * @default false
   */
  force?: boolean;
}

/** The server's events, for `server.on(name, listener)`. */
export interface ServerEvents {
  state: [change: ServerStateChange];
  brokerReachability: [change: BrokerReachabilityChange];
  signal: [signal: RecordedSignal];
  /** A handler ignored its abort signal for more than a second; it keeps its slot until it settles. */
  taskOverdue: [task: RunningTask];
}

/** How long a broker call of a background loop may take. */
const brokerCallTimeout = 10_000;
/** How long `start()` waits for the cancel subscription before going on without it (it keeps trying). */
const subscribeWait = 1000;
/** After the shutdown deadline: budget to requeue unfinished tasks, then to clear state and unsubscribe. */
const requeueBudget = 500;
const closeBudget = 300;
/** When the recoverer sweeps: 10-250 ms after the second, late enough to be past it and early enough. */
const recovererAlignOffset = (): number => 10 + Math.floor(Math.random() * 240);

const asynqStatus: Record<ServerLifecycleState, string> = {
  new: 'new',
  running: 'active',
  quiet: 'stopped',
  draining: 'closed',
  closed: 'closed',
};

/**
 * Processes tasks from the queues Go Asynq uses, side by side with Go Asynq servers: same leases,
 * retries, archive, recovery, server and worker info. `start(handler)` begins; `stop()` makes it quiet;
 * `resume()` goes on; `shutdown()` drains and always ends within its deadline plus about a second.
 */
export class Server extends EventEmitter<ServerEvents> {
  /** This server's id in server and worker info. */
  readonly id = randomUUID();

  private readonly options: ResolvedServerOptions;
  private readonly reachability: BrokerReachability;
  private currentState: ServerLifecycleState = 'new';
  private stateSince: number;
  private startedAt = 0;
  private lastSignal: RecordedSignal | undefined;
  private forcedShutdown = false;
  private processor: Processor | undefined;
  private heartbeat: PeriodicTask | undefined;
  private leaseKeeper: PeriodicTask | undefined;
  private background: PeriodicTask[] = [];
  private cancelSubscriber: CancelSubscriber | undefined;
  private shutdownPromise: Promise<void> | undefined;
  private drainDeadline: { at: number; controller: AbortController; timer: unknown } | undefined;

  /**
   * How many tasks are pending in the server's queues (present when the broker can report queue stats),
   * so that a supervisor can warn about a quiet server with a backlog.
   */
  readonly pendingTaskCount?: () => Promise<number>;

  constructor(options: ServerOptions) {
    super();
    this.options = resolveServerOptions(options);
    this.stateSince = this.options.clock.now();
    this.reachability = new BrokerReachability(
      (reachable, error) => this.onReachabilityChange(reachable, error),
      this.options.clock,
    );
    const { broker, queues } = this.options;
    const queueStats = broker.queueStats?.bind(broker);
    if (queueStats) {
      this.pendingTaskCount = async () => {
        const now = this.options.clock.now();
        const stats = await Promise.all(
          Object.keys(queues).map((queue) =>
            withTimeout(this.options.clock, queueStats(queue, now), brokerCallTimeout, 'queueStats').then(
              (found) => found.pending,
              // A queue nothing was ever enqueued to has no stats yet.
              (error: unknown) => {
                if (error instanceof QueueNotFoundError) return 0;
                throw error;
              },
            ),
          ),
        );
        return stats.reduce((sum, pending) => sum + pending, 0);
      };
    }
  }

  get state(): ServerLifecycleState {
    return this.currentState;
  }

  /** Whether the broker answered the last calls. */
  get brokerReachable(): boolean {
    return this.reachability.reachable;
  }

  /**
   * The last time the fetch loop went round, Unix milliseconds; it goes round at least every
   * `taskCheckInterval` while running (longer only while a broker call hangs, up to 10 s).
   */
  get lastFetchAt(): number | undefined {
    return this.processor?.lastFetchAt;
  }

  /** The logger the server was given. */
  get logger(): Logger {
    return this.options.logger;
  }

  /** Whether the shutdown deadline passed and unfinished tasks were aborted and requeued. */
  get forced(): boolean {
    return this.forcedShutdown;
  }

  /** The shutdown timeout in milliseconds, for supervisors that bound the whole shutdown. */
  get shutdownTimeout(): number {
    return this.options.shutdownTimeout;
  }

  /** The last signal recorded with `recordSignal`. */
  get lastRecordedSignal(): RecordedSignal | undefined {
    return this.lastSignal;
  }

  /** Every task whose handler has not settled (each holds a slot), including overdue ones. */
  runningTasks(): RunningTask[] {
    return [...(this.processor?.active ?? [])]
      .filter((entry) => !entry.settled)
      .map((entry) => this.describeTask(entry));
  }

  /**
   * Notes that the process received a signal (e.g. `SIGTERM`). It is logged, emitted as `signal`, and
   * published with the server's state for inspectors.
   */
  recordSignal(signal: string): void {
    this.lastSignal = { signal, at: this.options.clock.now() };
    this.options.logger.info({ signal, state: this.currentState }, `received ${signal}`);
    this.emitSafely('signal', this.lastSignal);
    this.heartbeat?.trigger();
  }

  /** Starts processing with `handler` (a `ServeMux`, an object with `processTask`, or a function). */
  async start(handler: Handler | HandlerFunction): Promise<void> {
    if (this.currentState !== 'new') {
      throw this.currentState === 'closed' || this.currentState === 'draining'
        ? new ShutdownError('This server was shut down; create a new Server to process tasks again.')
        : new ValidationError('server.start() was already called; call it once per Server.', [
            { path: 'start', message: 'already started' },
          ]);
    }
    const resolvedHandler: Handler | undefined =
      typeof handler === 'function'
        ? { processTask: async (task, context) => void (await handler(task, context)) }
        : typeof handler?.processTask === 'function'
          ? handler
          : undefined;
    if (!resolvedHandler) {
      throw new ValidationError(
        'server.start(handler): handler must be a ServeMux, an object with processTask(task, context), or a function.',
        [{ path: 'handler', message: 'not a handler' }],
      );
    }
    const { options, reachability } = this;
    const { logger } = options;
    this.startedAt = this.options.clock.now();
    const processor = new Processor({
      options,
      handler: resolvedHandler,
      reachability,
      onOverdue: (entry) => this.onOverdue(entry),
    });
    this.processor = processor;
    const periodic = (
      name: string,
      interval: number,
      run: (signal: AbortSignal) => Promise<void>,
      { runAtStart = false, alignOffset }: { runAtStart?: boolean; alignOffset?: number } = {},
    ) =>
      new PeriodicTask({
        name,
        interval,
        run,
        runAtStart,
        logger,
        clock: options.clock,
        onError: (error) => reachability.failed(error),
        ...(alignOffset === undefined ? {} : { alignOffset }),
      });

    this.heartbeat = periodic('heartbeat', options.heartbeatInterval, () => this.writeState(), {
      runAtStart: true,
    });
    // Three extensions per lease (every second at the default 3 s): a lease survives two failed or late
    // extensions. Go Asynq extends six times per lease (30 s lease, every 5 s).
    this.leaseKeeper = periodic('lease keeper', options.leaseDuration / 3, () => processor.extendLeases());
    this.background = [
      periodic(
        'recoverer',
        options.recovererInterval,
        createRecoverer({ options, processor, reachability, callTimeout: brokerCallTimeout }),
        // Just after each whole second (when leases end, stored in whole seconds), at an offset of this
        // server's own so that the servers of a fleet do not race for the same task.
        { runAtStart: true, alignOffset: recovererAlignOffset() },
      ),
      periodic(
        'forwarder',
        options.delayedTaskCheckInterval,
        createForwarder(options, reachability, brokerCallTimeout),
      ),
      periodic('janitor', options.janitorInterval, createJanitor(options, reachability, brokerCallTimeout)),
      // An evicting maxmemory policy is reported at start; a restart that lost the data, when seen.
      periodic('store watch', options.heartbeatInterval, createStoreWatch(options, brokerCallTimeout), {
        runAtStart: true,
      }),
    ];
    if (options.groupAggregator) {
      this.background.push(
        periodic(
          'group aggregator',
          // Asynq checks every min(7 s, grace period); checking at least once per max delay honours it too.
          Math.min(7000, options.groupGracePeriod, options.groupMaxDelay || Infinity),
          createGroupAggregation(options, reachability, brokerCallTimeout),
        ),
      );
    }
    if (options.healthCheck) {
      this.background.push(
        periodic(
          'health check',
          options.healthCheckInterval,
          createHealthCheck(options, reachability, brokerCallTimeout),
        ),
      );
    }
    this.cancelSubscriber = new CancelSubscriber({
      broker: options.broker,
      onCancel: (taskId) => {
        if (processor.cancel(taskId)) logger.info({ taskId }, 'cancelled a running task on request');
      },
      logger,
      reachability,
      clock: options.clock,
    });

    this.setState('running');
    logger.info(
      {
        serverId: this.id,
        queues: options.queues,
        concurrency: options.concurrency,
        strictPriority: options.strictPriority,
      },
      'server started',
    );
    processor.startFetching();
    this.heartbeat.start();
    this.leaseKeeper.start();
    for (const task of this.background) task.start();
    await this.cancelSubscriber.start(subscribeWait);
  }

  /** Quiet: takes no new tasks; running tasks finish and keep their leases. Undo with `resume()`. */
  stop(): void {
    if (this.currentState !== 'running') return;
    this.setState('quiet');
    void this.processor?.stopFetching(0);
  }

  /** Takes new tasks again after `stop()`. */
  resume(): void {
    if (this.currentState !== 'quiet') return;
    this.setState('running');
    this.processor?.startFetching();
  }

  /**
   * Stops taking tasks, waits for running tasks until the timeout, then aborts the rest and puts them back
   * at the head of pending without spending a retry, clears the server's published state and resolves.
   * Resolves within the timeout plus about a second even when the broker is unreachable. Calling it again
   * returns the same promise (with `force`, it hastens the shutdown in progress).
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const timeout =
      options.force === true
        ? 0
        : options.timeout === undefined
          ? this.options.shutdownTimeout
          : toMilliseconds(options.timeout, 'shutdown({ timeout })');
    if (this.shutdownPromise) {
      this.hastenDrain(this.options.clock.now() + timeout);
      return this.shutdownPromise;
    }
    this.shutdownPromise = this.runShutdown(timeout);
    return this.shutdownPromise;
  }

  private async runShutdown(timeout: number): Promise<void> {
    const { logger } = this.options;
    const processor = this.processor;
    if (this.currentState === 'new' || !processor) {
      this.setState('closed');
      return;
    }
    try {
      const controller = new AbortController();
      this.drainDeadline = {
        at: this.options.clock.now() + timeout,
        controller,
        timer: this.options.clock.setTimeout(() => controller.abort(), timeout),
      };
      this.setState('draining');
      logger.info(
        { timeoutMs: timeout, running: processor.active.size },
        'shutting down: waiting for running tasks',
      );

      const stopping = [
        processor.stopFetching(timeout + requeueBudget),
        ...this.background.map((task) => task.stop(timeout + requeueBudget)),
      ];
      await processor.waitUntilIdle(controller.signal);
      this.options.clock.clearTimeout(this.drainDeadline.timer);

      const abandoned = processor.abandonUndecided();
      if (abandoned.length > 0 || (controller.signal.aborted && processor.active.size > 0)) {
        this.forcedShutdown = true;
        this.heartbeat?.trigger();
        logger.warn(
          { requeued: abandoned.length, stillRunning: processor.active.size },
          'shutdown deadline reached: aborting unfinished tasks and putting them back in pending',
        );
        await this.requeue(abandoned);
      }

      await Promise.race([Promise.all(stopping), sleep(this.options.clock, 50)]);
      await Promise.all([this.heartbeat?.stop(50), this.leaseKeeper?.stop(50)]);
      const { host } = this.options;
      await Promise.all([
        withTimeout(
          this.options.clock,
          this.options.broker.clearServerState({ host, pid: process.pid, serverId: this.id }),
          closeBudget,
          'clearServerState',
        ).catch((error: unknown) => {
          logger.warn(
            { error: error instanceof Error ? error.message : String(error) },
            'could not clear the server state; it expires by itself',
          );
        }),
        this.cancelSubscriber?.stop(closeBudget),
      ]);
      this.setState('closed');
      logger.info({ serverId: this.id }, 'server shut down');
    } finally {
      // The deadline and slot timers stay armed between tasks: stopped here, however the shutdown went.
      processor.close();
    }
  }

  private hastenDrain(at: number): void {
    const deadline = this.drainDeadline;
    if (!deadline || at >= deadline.at || deadline.controller.signal.aborted) return;
    const { clock } = this.options;
    clock.clearTimeout(deadline.timer);
    deadline.at = at;
    deadline.timer = clock.setTimeout(() => deadline.controller.abort(), Math.max(0, at - clock.now()));
  }

  private async requeue(entries: ActiveTask[]): Promise<void> {
    const { broker, logger } = this.options;
    const now = this.options.clock.now();
    await Promise.all(
      entries.map(async (entry) => {
        const { message } = entry;
        const fields = { taskId: message.id, type: message.type, queue: message.queue };
        if (entry.leaseExpiresAt <= now || entry.leaseLost) {
          entry.released = true;
          return;
        }
        try {
          await withTimeout(
            this.options.clock,
            broker.requeue(message, entry.fence),
            requeueBudget,
            'requeue',
          );
          logger.info(fields, 'put an unfinished task back at the head of pending');
        } catch (error) {
          logger.warn(
            { ...fields, error: error instanceof Error ? error.message : String(error) },
            'could not requeue an unfinished task; the recoverer will retry it when its lease ends',
          );
        } finally {
          entry.released = true;
        }
      }),
    );
  }

  // -------------------------------------------------------------------------------------------------

  private setState(to: ServerLifecycleState): void {
    const from = this.currentState;
    if (from === to) return;
    this.currentState = to;
    this.stateSince = this.options.clock.now();
    this.options.logger.info({ from, to }, `server ${to}`);
    this.emitSafely('state', { from, to, at: this.stateSince });
    this.heartbeat?.trigger();
  }

  private onReachabilityChange(reachable: boolean, error: Error | undefined): void {
    const { logger } = this.options;
    if (reachable) logger.info({}, 'the broker is reachable again; processing resumes');
    else {
      logger.error(
        { error: error?.message },
        'the broker is unreachable; the server keeps retrying with backoff and resumes by itself',
      );
    }
    this.emitSafely('brokerReachability', {
      reachable,
      ...(error ? { error } : {}),
      at: this.options.clock.now(),
    });
    this.heartbeat?.trigger();
  }

  private onOverdue(entry: ActiveTask): void {
    const task = this.describeTask(entry);
    this.options.logger.warn(
      { taskId: task.id, type: task.type, queue: task.queue, reason: this.abortReason(entry) },
      'a handler ignores its abort signal; it keeps its slot until it settles',
    );
    this.emitSafely('taskOverdue', task);
  }

  private abortReason(entry: ActiveTask): string | undefined {
    return entry.abortReason?.message;
  }

  private describeTask(entry: ActiveTask): RunningTask {
    const { message } = entry;
    return {
      id: message.id,
      type: message.type,
      queue: message.queue,
      startedAt: entry.startedAt,
      deadline: entry.deadline.at,
      overdue: entry.abortedAt !== undefined && !entry.settled,
    };
  }

  private emitSafely<Name extends keyof ServerEvents>(name: Name, ...args: ServerEvents[Name]): void {
    try {
      (this.emit as (name: string, ...values: unknown[]) => boolean)(name, ...args);
    } catch (error) {
      this.options.logger.error(
        { event: name, error: error instanceof Error ? error.message : String(error) },
        'a server event listener threw',
      );
    }
  }

  private describe(): { server: ServerState; workers: WorkerState[] } {
    const { host, concurrency, queues, strictPriority } = this.options;
    const processor = this.processor;
    const active = [...(processor?.active ?? [])];
    const overdue = active.filter((entry) => entry.abortedAt !== undefined && !entry.settled);
    const lifecycle: ServerLifecycle = {
      state: this.forcedShutdown && this.currentState === 'draining' ? 'forced' : this.currentState,
      stateSince: this.stateSince,
      brokerReachable: this.reachability.reachable,
    };
    if (this.lastSignal) {
      lifecycle.lastSignal = this.lastSignal.signal;
      lifecycle.lastSignalAt = this.lastSignal.at;
    }
    if (processor?.lastFetchAt !== undefined) lifecycle.lastFetchAt = processor.lastFetchAt;
    if (overdue.length > 0) lifecycle.overdueTaskIds = overdue.map((entry) => entry.message.id);
    const identity = { host, pid: process.pid, serverId: this.id };
    return {
      server: {
        ...identity,
        concurrency,
        queues: { ...queues },
        strictPriority,
        status: asynqStatus[this.currentState],
        startedAt: this.startedAt,
        activeWorkerCount: active.length,
        lifecycle,
      },
      workers: active.map((entry) => ({
        ...identity,
        taskId: entry.message.id,
        taskType: entry.message.type,
        payload: entry.message.payload,
        queue: entry.message.queue,
        startedAt: entry.startedAt,
        deadline: entry.deadline.at,
      })),
    };
  }

  private async writeState(): Promise<void> {
    if (this.currentState === 'closed') return;
    const { server, workers } = this.describe();
    const ttl = this.options.heartbeatInterval * 2;
    await withTimeout(
      this.options.clock,
      this.options.broker.writeServerState(server, workers, ttl),
      Math.min(brokerCallTimeout, this.options.heartbeatInterval),
      'writeServerState',
    );
    this.reachability.succeeded();
  }
}
