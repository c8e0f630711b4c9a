/**
 * `run(server, handler, options)`: the whole life of a worker process. It installs the signal handlers,
 * starts the server, and resolves (or exits the process) once the shutdown has finished; the watchdog makes
 * sure that a shutdown which cannot finish still ends the process, loudly and with a non-zero code.
 */
import { guardClosedTerminal } from './closed-terminal-guard';
import { checkHealth } from './health-check';
import { neverThrowingLogger } from './never-throwing-logger';
import { startHealthEndpoint, type HealthEndpoint } from './health-endpoint';
import { ProcessLifecycle, type ProcessLike, type RunResult } from './process-lifecycle';
import { resolveRunOptions, type RunOptions } from './run-options';
import { ServerMonitor } from './server-monitor';
import type { ServerLike } from './server-like';

/**
 * Runs `server` with `handler` until a signal shuts it down:
 *
 * - SIGTSTP: quiet (no new tasks; running handlers finish and keep their leases). SIGCONT: resume.
 * - SIGTERM, SIGINT, SIGHUP: graceful shutdown within `shutdownTimeout`; a second SIGTERM or SIGINT
 *   forces it (handlers aborted, tasks requeued at once).
 * - SIGUSR2: writes the state (signals, running tasks and their ages) to the log.
 * - Windows: SIGTERM and SIGINT only. Every other signal keeps Node's default.
 *
 * Exits the process when the shutdown has finished (see `exitProcess`). Validation errors in `options`
 * throw before anything starts.
 */
export function run<Handler>(
  server: ServerLike<Handler>,
  handler: Handler,
  options: RunOptions = {},
): Promise<RunResult> {
  return runInProcess(server, handler, options, {
    process: {
      pid: process.pid,
      platform: process.platform,
      on: (signal, listener) => process.on(signal, listener),
      removeListener: (signal, listener) => process.removeListener(signal, listener),
      exit: (code) => process.exit(code),
      terminal: process,
    },
  });
}

/** Where `run()` runs: the process it handles signals of, and the clock it reads. */
export interface RunEnvironment {
  process: ProcessLike;
  /**
   * The clock, Unix milliseconds: state times, the health endpoint's fetch staleness, the watchdog's
   * deadline and the monitor's checks all read it (their timers are the global `setTimeout` and
   * `setInterval`, which fake timers replace). @default Date.now
   */
  now?: () => number;
}

/**
 * `run()` in a given environment: tests pass a fake process to send signals without sending them for
 * real, and a clock of their own.
 */
export async function runInProcess<Handler>(
  server: ServerLike<Handler>,
  handler: Handler,
  options: RunOptions,
  environment: RunEnvironment,
): Promise<RunResult> {
  const resolved = resolveRunOptions(options, server);
  resolved.logger = neverThrowingLogger(resolved.logger);
  const { logger } = resolved;
  const { process: processLike } = environment;
  const now = environment.now ?? (() => Date.now());
  let monitor: ServerMonitor | undefined;
  let health: HealthEndpoint | undefined;
  const lifecycle = new ProcessLifecycle(server, resolved, {
    process: processLike,
    now,
    onFinish: () => {
      monitor?.stop();
      health?.close().catch(() => undefined);
    },
    onHangup: () => {
      if (processLike.terminal) guardClosedTerminal(processLike.terminal, logger);
    },
  });
  lifecycle.install();

  if (resolved.health) {
    const { port, host } = resolved.health;
    try {
      health = await startHealthEndpoint({
        port,
        host,
        report: (probe) =>
          checkHealth(probe, {
            server,
            stateSince: lifecycle.stateSince,
            lastSignal: lifecycle.recentSignals.at(-1),
            fetchStaleAfter: resolved.fetchStaleAfter,
            now: now(),
          }),
      });
    } catch (error) {
      lifecycle.startFailed(error, `the health endpoint could not listen on ${host}:${port}`);
      if (!resolved.exitProcess) throw error;
      return lifecycle.finished;
    }
  }

  const started = server.start(handler);
  lifecycle.starting(started);
  try {
    await started;
  } catch (error) {
    lifecycle.startFailed(error, 'the server failed to start');
    if (!resolved.exitProcess) throw error;
    return lifecycle.finished;
  }
  lifecycle.running();
  if (lifecycle.active) {
    monitor = new ServerMonitor({
      server,
      logger,
      checkInterval: resolved.checkInterval,
      quietWarningAfter: resolved.quietWarningAfter,
      fetchStaleAfter: resolved.fetchStaleAfter,
      stateSince: () => lifecycle.stateSince,
      now,
    });
    monitor.start();
    logger.info(
      {
        pid: processLike.pid,
        signals: lifecycle.handledSignals,
        shutdownTimeout: resolved.shutdownTimeout,
        watchdogGrace: resolved.watchdogGrace,
        health: health?.url,
      },
      `worker running (pid ${processLike.pid}): TSTP quiets, CONT resumes, TERM/INT/HUP shut down gracefully, a second TERM/INT forces, USR2 dumps the state${health ? `; health endpoint at ${health.url}/healthz and ${health.url}/readyz` : ''}`,
    );
  }
  return lifecycle.finished;
}
