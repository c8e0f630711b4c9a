/**
 * The options of `run()`, their defaults, and their validation.
 */
import { silentLogger, toMilliseconds, ValidationError, type Duration, type Logger } from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import type { ServerLike } from './server-like';

export interface HealthOptions {
  /**
   * The TCP port. 0 picks a free one; the address is logged when the endpoint starts.
   * @default 0
   */
  port?: number;
  /**
   * The address to bind. Keep the loopback default unless the prober runs on another host.
   * @default '127.0.0.1'
   */
  host?: string;
}

export interface RunOptions {
  /**
   * Where every signal, state change, warning and state dump goes (pino's shape).
   * @default the server's `logger`, else silent
   */
  logger?: Logger;
  /**
   * How long a graceful shutdown (TERM, INT, HUP) lets running handlers finish before they are aborted
   * and their tasks requeued.
   * @default the server's `shutdownTimeout`
   */
  shutdownTimeout?: Duration;
  /**
   * How long past the shutdown deadline the watchdog waits before it logs what is still running and exits
   * the process with `watchdogExitCode`, so that a supervisor restarts it. `@q/server` finishes its own
   * shutdown within about 900 ms past the deadline (requeueing, then clearing its state, each bounded
   * even when Redis is down); the default keeps the whole process within `shutdownTimeout` + 1 s.
   * @default '900ms'
   */
  watchdogGrace?: Duration;
  /**
   * How long a forced shutdown (a second TERM or INT) may take before the watchdog exits the process.
   * @default '1500ms'
   */
  forcedShutdownTimeout?: Duration;
  /**
   * Exit the process once the shutdown has finished: code 0, or 1 when the server failed to start or
   * its shutdown threw. When false, `run()` resolves instead (and rejects when the server failed to start);
   * the watchdog exits the process either way.
   * @default true
   */
  exitProcess?: boolean;
  /**
   * The exit code when the watchdog ends a shutdown that did not finish.
   * @default 1
   */
  watchdogExitCode?: number;
  /**
   * Warn when the server has been quiet (SIGTSTP) this long while its queues hold pending tasks; the
   * warning repeats at the same interval for as long as that lasts.
   * @default '5m'
   */
  quietWarningAfter?: Duration;
  /**
   * How often the server is checked for a stuck fetch loop, an unreachable broker, overdue handlers and a
   * long quiet.
   * @default '1s'
   */
  checkInterval?: Duration;
  /**
   * The fetch loop counts as stuck when it has not run for this long: a warning is logged and both
   * health probes fail.
   * @default '30s'
   */
  fetchStaleAfter?: Duration;
  /**
   * An HTTP health endpoint: `GET /healthz` (live) and `GET /readyz` (ready). Off unless given.
   * @default false
   */
  health?: false | HealthOptions;
}

export interface ResolvedHealthOptions {
  port: number;
  host: string;
}

export interface ResolvedRunOptions {
  logger: Logger;
  shutdownTimeout: number;
  watchdogGrace: number;
  forcedShutdownTimeout: number;
  exitProcess: boolean;
  watchdogExitCode: number;
  quietWarningAfter: number;
  checkInterval: number;
  fetchStaleAfter: number;
  health: ResolvedHealthOptions | undefined;
}

const runOptionKeys = [
  'logger',
  'shutdownTimeout',
  'watchdogGrace',
  'forcedShutdownTimeout',
  'exitProcess',
  'watchdogExitCode',
  'quietWarningAfter',
  'checkInterval',
  'fetchStaleAfter',
  'health',
] as const;
const healthOptionKeys = ['port', 'host'] as const;

function resolveHealth(health: RunOptions['health']): ResolvedHealthOptions | undefined {
  if (health === undefined || health === false) return undefined;
  if (typeof health !== 'object' || health === null) {
    throw new ValidationError(
      `run(server, handler, { health }): health must be false or an object such as { port: 9464 }, got ${JSON.stringify(health)}.`,
      [{ path: 'health', message: 'not an object' }],
    );
  }
  assertKnownKeys(health, healthOptionKeys, 'health option');
  const port = health.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ValidationError(`health.port must be an integer from 0 to 65535, got ${String(port)}.`, [
      { path: 'health.port', message: 'not a port' },
    ]);
  }
  const host = health.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '') {
    throw new ValidationError(
      `health.host must be an address such as '127.0.0.1', got ${JSON.stringify(host)}.`,
      [{ path: 'health.host', message: 'not an address' }],
    );
  }
  return { port, host };
}

/** Fills in defaults and throws a `ValidationError` that says what to change for a bad option. */
export function resolveRunOptions(
  options: RunOptions,
  server: Pick<ServerLike, 'shutdownTimeout' | 'logger'>,
): ResolvedRunOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('run(server, handler, options): options must be an object or left out.');
  }
  assertKnownKeys(options, runOptionKeys, 'run option');
  const shutdownTimeout = toMilliseconds(
    options.shutdownTimeout ?? server.shutdownTimeout,
    'shutdownTimeout',
  );
  const watchdogExitCode = options.watchdogExitCode ?? 1;
  if (!Number.isInteger(watchdogExitCode) || watchdogExitCode < 1 || watchdogExitCode > 255) {
    throw new ValidationError(
      `watchdogExitCode must be an integer from 1 to 255 (non-zero, so that a supervisor restarts the process), got ${String(watchdogExitCode)}.`,
      [{ path: 'watchdogExitCode', message: 'not a non-zero exit code' }],
    );
  }
  const checkInterval = toMilliseconds(options.checkInterval ?? '1s', 'checkInterval');
  if (checkInterval <= 0) {
    throw new ValidationError('checkInterval must be more than 0.', [
      { path: 'checkInterval', message: 'zero' },
    ]);
  }
  return {
    logger: options.logger ?? server.logger ?? silentLogger,
    shutdownTimeout,
    watchdogGrace: toMilliseconds(options.watchdogGrace ?? '900ms', 'watchdogGrace'),
    forcedShutdownTimeout: toMilliseconds(options.forcedShutdownTimeout ?? '1500ms', 'forcedShutdownTimeout'),
    exitProcess: options.exitProcess ?? true,
    watchdogExitCode,
    quietWarningAfter: toMilliseconds(options.quietWarningAfter ?? '5m', 'quietWarningAfter'),
    checkInterval,
    fetchStaleAfter: toMilliseconds(options.fetchStaleAfter ?? '30s', 'fetchStaleAfter'),
    health: resolveHealth(options.health),
  };
}
