/**
 * The state machine behind `run()`: turns signals into server actions exactly once each, starts one
 * shutdown sequence however many signals arrive, arms the watchdog, and logs every step. It talks to the
 * process only through `ProcessLike`, so that tests can send it signals without sending them to themselves.
 */
import type { Logger } from '@q/core';
import type { TerminalOwner } from './closed-terminal-guard';
import type { ResolvedRunOptions } from './run-options';
import type { ServerLike, ServerLikeStateChange } from './server-like';
import { signalActions, type SignalAction } from './signal-actions';
import { buildStateDump, describeRunningTasks, type ReceivedSignal } from './state-dump';
import { Watchdog } from './watchdog';

/** What `run()` needs of `process`. */
export interface ProcessLike {
  readonly pid: number;
  readonly platform: NodeJS.Platform;
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  /** The process whose terminal may hang up: guarded against write errors once SIGHUP has come. */
  readonly terminal?: TerminalOwner;
}

/** How a `run()` ended. */
export interface RunResult {
  /** 0 after a finished shutdown; non-zero when start or shutdown failed or the watchdog fired. */
  exitCode: number;
  reason: 'signal' | 'closed' | 'start-failed' | 'shutdown-failed' | 'watchdog';
  /** The signal that started the shutdown, if one did. */
  signal?: string;
  /** A second TERM or INT forced the shutdown. */
  forced: boolean;
}

export interface LifecycleEnvironment {
  process: ProcessLike;
  now?: () => number;
  /** Called once when the run is over, before the process exits: stops what `run()` started. */
  onFinish?: () => void;
  /** Called on SIGHUP before anything is logged: the terminal may be gone. */
  onHangup?: () => void;
}

type Phase = 'starting' | 'running' | 'draining' | 'forced' | 'finished';

/** How many received signals the state dump and `recentSignals` keep. */
const recentSignalLimit = 32;

export class ProcessLifecycle {
  readonly #server: ServerLike<never>;
  readonly #options: ResolvedRunOptions;
  readonly #process: ProcessLike;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #watchdog: Watchdog;
  readonly #listeners = new Map<NodeJS.Signals, (signal: NodeJS.Signals) => void>();
  readonly #recentSignals: ReceivedSignal[] = [];
  readonly #finished: Promise<RunResult>;
  #resolveFinished!: (result: RunResult) => void;
  #phase: Phase = 'starting';
  #started: Promise<unknown> = Promise.resolve();
  #quietRequestedBeforeStart = false;
  #shutdownSignal: string | undefined;
  #shutdownStartedAt: number | undefined;
  #stateSince: number;
  readonly #onStateChange = (change: ServerLikeStateChange): void => this.#handleStateChange(change);
  readonly #onFinish: () => void;
  readonly #onHangup: () => void;

  constructor(server: ServerLike<never>, options: ResolvedRunOptions, environment: LifecycleEnvironment) {
    this.#server = server;
    this.#options = options;
    this.#process = environment.process;
    this.#logger = options.logger;
    this.#now = environment.now ?? Date.now;
    this.#onFinish = environment.onFinish ?? (() => undefined);
    this.#onHangup = environment.onHangup ?? (() => undefined);
    this.#stateSince = this.#now();
    this.#watchdog = new Watchdog((reason) => this.#watchdogExpired(reason), this.#now);
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Resolves once the run is over (when the process is not exited instead). */
  get finished(): Promise<RunResult> {
    return this.#finished;
  }

  get stateSince(): number {
    return this.#stateSince;
  }

  get recentSignals(): readonly ReceivedSignal[] {
    return this.#recentSignals;
  }

  /** The signals handled on this platform. */
  get handledSignals(): NodeJS.Signals[] {
    return [...this.#listeners.keys()];
  }

  /** Installs a handler for every signal in the plan and listens to the server's state changes. */
  install(): void {
    for (const [signal, action] of signalActions(this.#process.platform)) {
      const listener = (): void => this.handleSignal(signal, action);
      this.#listeners.set(signal, listener);
      this.#process.on(signal, listener);
    }
    this.#server.on('state', this.#onStateChange);
  }

  /** Tells the lifecycle that `server.start()` was called; `started` settles when it has. */
  starting(started: Promise<unknown>): void {
    this.#started = started.catch(() => undefined);
  }

  /** `server.start()` resolved. Applies a quiet requested during the start. */
  running(): void {
    if (this.#phase !== 'starting') return;
    this.#phase = 'running';
    if (this.#quietRequestedBeforeStart && this.#server.state === 'running') {
      this.#server.stop();
      this.#logger.info(
        { state: this.#server.state },
        'quiet applied: SIGTSTP arrived while the server was starting',
      );
    }
  }

  /** False once the run is over. */
  get active(): boolean {
    return this.#phase !== 'finished';
  }

  /** Starting failed (the server, or the health endpoint): the run ends with exit code 1. */
  startFailed(error: unknown, message: string): void {
    this.#logger.error({ error }, `${message}; exiting with code 1`);
    this.#finish({ exitCode: 1, reason: 'start-failed', forced: false });
  }

  /** Handles one received signal. Never throws: a throwing signal listener would crash the process. */
  handleSignal(signal: NodeJS.Signals, action: SignalAction): void {
    const receivedAt = this.#now();
    if (action === 'hangup') {
      try {
        this.#onHangup();
      } catch {
        // Guarding the terminal is best effort; the shutdown below is what matters.
      }
    }
    const stateBefore = this.#server.state;
    let outcome: string;
    try {
      this.#server.recordSignal(signal);
    } catch (error) {
      this.#logger.warn({ error, signal }, `could not record ${signal} in the server's published state`);
    }
    try {
      outcome = this.#act(signal, action);
    } catch (error) {
      outcome = `failed: ${error instanceof Error ? error.message : String(error)}`;
      this.#logger.error({ error, signal }, `handling ${signal} failed`);
    }
    const stateAfter = this.#server.state;
    this.#recentSignals.push({ signal, receivedAt, stateBefore, stateAfter, outcome });
    if (this.#recentSignals.length > recentSignalLimit) this.#recentSignals.shift();
    const fields = {
      signal,
      receivedAt: new Date(receivedAt).toISOString(),
      stateBefore,
      stateAfter,
      outcome,
      runningTasks: this.#server.runningTasks().length,
    };
    const message = `${signal} received: ${stateBefore} -> ${stateAfter}; ${outcome}`;
    if (action === 'shutdown' || action === 'hangup') this.#logger.warn(fields, message);
    else this.#logger.info(fields, message);
    if (action === 'dump') this.#dumpState(signal);
  }

  #act(signal: NodeJS.Signals, action: SignalAction): string {
    const shuttingDown = this.#phase === 'draining' || this.#phase === 'forced' || this.#phase === 'finished';
    switch (action) {
      case 'dump':
        return 'state written to the log';
      case 'quiet':
        if (shuttingDown) return 'ignored: the server is shutting down';
        if (this.#phase === 'starting') {
          this.#quietRequestedBeforeStart = true;
          return 'quiet once the server has started';
        }
        if (this.#server.state !== 'running') return `no change: the server is ${this.#server.state}`;
        this.#server.stop();
        return 'quiet: no new tasks; running handlers finish and keep their leases (SIGCONT resumes)';
      case 'resume':
        if (shuttingDown) return 'ignored: the server is shutting down';
        if (this.#phase === 'starting') {
          this.#quietRequestedBeforeStart = false;
          return 'no change: the server is starting';
        }
        if (this.#server.state !== 'quiet') return `no change: the server is ${this.#server.state}`;
        this.#server.resume();
        return 'resumed: taking tasks again';
      case 'hangup':
        if (shuttingDown) return 'ignored: a shutdown is already in progress (SIGHUP never forces it)';
        return this.#beginShutdown(signal);
      case 'shutdown':
        if (this.#phase === 'draining') return this.#beginForcedShutdown(signal);
        if (shuttingDown) return 'ignored: a forced shutdown is already in progress';
        return this.#beginShutdown(signal);
    }
  }

  #beginShutdown(trigger: string): string {
    const { shutdownTimeout, watchdogGrace } = this.#options;
    const wasStarting = this.#phase === 'starting';
    this.#phase = 'draining';
    this.#shutdownSignal = trigger;
    this.#shutdownStartedAt = this.#now();
    const deadline = this.#shutdownStartedAt + shutdownTimeout;
    this.#watchdog.arm(
      deadline + watchdogGrace,
      `the graceful shutdown started by ${trigger} did not finish within ${shutdownTimeout} ms plus ${watchdogGrace} ms of grace`,
    );
    this.#logger.warn(
      {
        trigger,
        shutdownTimeout,
        deadline: new Date(deadline).toISOString(),
        watchdogAt: new Date(deadline + watchdogGrace).toISOString(),
        runningTasks: describeRunningTasks(this.#server.runningTasks(), this.#now()),
      },
      `graceful shutdown started by ${trigger}: no new tasks; running handlers have ${shutdownTimeout} ms, then they are aborted and their tasks requeued`,
    );
    const shutdown = (): Promise<void> => this.#server.shutdown({ timeout: shutdownTimeout });
    // A shutdown requested while the server starts waits for the start; the watchdog bounds both.
    const shutdownDone = wasStarting ? this.#started.then(shutdown) : invoke(shutdown);
    shutdownDone.then(
      () =>
        this.#finish({ exitCode: 0, reason: 'signal', signal: trigger, forced: this.#phase === 'forced' }),
      (error: unknown) => this.#shutdownFailed(error),
    );
    return `graceful shutdown started (deadline in ${shutdownTimeout} ms)`;
  }

  #beginForcedShutdown(trigger: string): string {
    const { forcedShutdownTimeout } = this.#options;
    this.#phase = 'forced';
    this.#watchdog.arm(
      this.#now() + forcedShutdownTimeout,
      `the forced shutdown started by ${trigger} did not finish within ${forcedShutdownTimeout} ms`,
    );
    this.#logger.warn(
      { trigger, runningTasks: describeRunningTasks(this.#server.runningTasks(), this.#now()) },
      `forced shutdown started by a second signal (${trigger}): aborting every handler and requeueing its task now`,
    );
    invoke(() => this.#server.shutdown({ timeout: 0, force: true })).then(
      () => this.#finish({ exitCode: 0, reason: 'signal', signal: this.#shutdownSignal, forced: true }),
      (error: unknown) => this.#shutdownFailed(error),
    );
    return 'forced shutdown: handlers aborted, tasks requeued, exiting';
  }

  #shutdownFailed(error: unknown): void {
    this.#logger.error(
      { error },
      'the shutdown failed; exiting with code 1 (leases return unfinished tasks)',
    );
    this.#finish({
      exitCode: 1,
      reason: 'shutdown-failed',
      signal: this.#shutdownSignal,
      forced: this.#phase === 'forced',
    });
  }

  #handleStateChange(change: ServerLikeStateChange): void {
    // The server logs its own state changes; a signal's log line names the change it caused.
    this.#stateSince = change.at;
    if (change.to === 'draining' && (this.#phase === 'running' || this.#phase === 'starting')) {
      // The application called server.shutdown() itself: the watchdog guards that shutdown too.
      this.#phase = 'draining';
      this.#shutdownStartedAt = change.at;
      const watchdogAt = change.at + this.#options.shutdownTimeout + this.#options.watchdogGrace;
      this.#watchdog.arm(watchdogAt, 'the shutdown the application started did not finish in time');
      this.#logger.warn(
        { watchdogAt: new Date(watchdogAt).toISOString() },
        'the server is shutting down (not by a signal): the watchdog is armed',
      );
    }
    // A shutdown a signal started ends when its promise settles; one the application started, here.
    if (change.to === 'closed' && this.#phase !== 'finished' && this.#shutdownSignal === undefined) {
      this.#finish({ exitCode: 0, reason: 'closed', forced: false });
    }
  }

  #dumpState(signal: string): void {
    const dump = buildStateDump({
      server: this.#server,
      pid: this.#process.pid,
      stateSince: this.#stateSince,
      recentSignals: this.#recentSignals,
      now: this.#now(),
    });
    this.#logger.info(
      { dump },
      `state dump (${signal}): ${dump.state} for ${dump.stateAgeMs} ms, ${dump.runningTasks.length} running tasks`,
    );
  }

  #watchdogExpired(reason: string): void {
    if (this.#phase === 'finished') return;
    const now = this.#now();
    const code = this.#options.watchdogExitCode;
    this.#logger.error(
      {
        reason,
        state: this.#server.state,
        shutdownStartedAt:
          this.#shutdownStartedAt === undefined ? undefined : new Date(this.#shutdownStartedAt).toISOString(),
        brokerReachable: this.#server.brokerReachable,
        runningTasks: describeRunningTasks(this.#server.runningTasks(), now),
      },
      `watchdog: ${reason}; exiting with code ${code} so that a supervisor restarts the process (the leases of the tasks still running return them to their queues)`,
    );
    this.#finish(
      { exitCode: code, reason: 'watchdog', signal: this.#shutdownSignal, forced: this.#phase === 'forced' },
      true,
    );
  }

  #finish(result: RunResult, alwaysExit = false): void {
    if (this.#phase === 'finished') return;
    const forced = this.#phase === 'forced';
    this.#phase = 'finished';
    this.#watchdog.disarm();
    this.#server.off('state', this.#onStateChange);
    const durationMs =
      this.#shutdownStartedAt === undefined ? undefined : this.#now() - this.#shutdownStartedAt;
    if (result.reason !== 'watchdog') {
      this.#logger.info(
        { ...result, forced: result.forced || forced, shutdownDurationMs: durationMs },
        `shutdown finished${durationMs === undefined ? '' : ` in ${durationMs} ms`}; exit code ${result.exitCode}`,
      );
    }
    try {
      this.#onFinish();
    } catch (error) {
      this.#logger.warn({ error }, 'cleaning up after the run failed');
    }
    if (this.#options.exitProcess || alwaysExit) {
      flush(this.#logger);
      this.#process.exit(result.exitCode);
    } else {
      this.#uninstallSignals();
    }
    this.#resolveFinished(result);
  }

  #uninstallSignals(): void {
    for (const [signal, listener] of this.#listeners) this.#process.removeListener(signal, listener);
    this.#listeners.clear();
  }
}

/** Calls `action`, turning a synchronous throw into a rejected promise. */
function invoke(action: () => Promise<void>): Promise<void> {
  try {
    return action();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** pino buffers asynchronously when told to; flush what it holds before the process exits. */
function flush(logger: Logger): void {
  const flushable = logger as Logger & { flush?: () => void };
  if (typeof flushable.flush !== 'function') return;
  try {
    flushable.flush();
  } catch {
    // Exiting matters more than the last log line.
  }
}
