/**
 * Looks at the server every `checkInterval` and says out loud what a silent, half-dead worker would hide:
 * a fetch loop that stopped going round, and a quiet that went on too long while tasks are waiting. A
 * stuck fetch loop is logged once when it begins and once when it ends; the long quiet repeats every
 * `quietWarningAfter`. (`@q/server` itself reports overdue handlers and an unreachable broker.)
 */
import type { Logger } from '@q/core';
import type { ServerLike } from './server-like';

export interface ServerMonitorOptions {
  server: Pick<ServerLike, 'state' | 'lastFetchAt' | 'pendingTaskCount'>;
  logger: Logger;
  checkInterval: number;
  quietWarningAfter: number;
  fetchStaleAfter: number;
  /** When the server's current state began. */
  stateSince: () => number;
  now?: () => number;
}

export class ServerMonitor {
  readonly #options: ServerMonitorOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #fetchStaleReported = false;
  #quietWarnedAt: number | undefined;
  #backlogCheckRunning = false;

  constructor(options: ServerMonitorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.check(), this.#options.checkInterval);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round of checks; `start()` calls it every `checkInterval`. Never throws. */
  check(): void {
    try {
      this.#checkFetchLoop();
      this.#checkQuiet();
    } catch (error) {
      this.#options.logger.error({ error }, 'the server check failed; it runs again at the next interval');
    }
  }

  #checkFetchLoop(): void {
    const { server, logger, fetchStaleAfter, stateSince } = this.#options;
    const state = server.state;
    // A quiet server stops its fetch loop on purpose: only a running one must keep it going.
    const watched = state === 'running';
    const lastFetchAt = server.lastFetchAt;
    // Count from when the state began if that is later (a loop that never ran, or one just resumed).
    const age = this.#now() - Math.max(lastFetchAt ?? 0, stateSince());
    const stale = watched && age > fetchStaleAfter;
    if (stale && !this.#fetchStaleReported) {
      this.#fetchStaleReported = true;
      logger.warn(
        {
          state,
          lastFetchAt: lastFetchAt === undefined ? undefined : new Date(lastFetchAt).toISOString(),
          ageMs: age,
        },
        `the fetch loop has not run for ${age} ms (limit ${fetchStaleAfter} ms): the server takes no tasks; the health probes now fail`,
      );
    } else if (!stale && this.#fetchStaleReported) {
      this.#fetchStaleReported = false;
      logger.info({ state }, 'the fetch loop is running again');
    }
  }

  #checkQuiet(): void {
    const { server, quietWarningAfter, stateSince } = this.#options;
    if (server.state !== 'quiet') {
      this.#quietWarnedAt = undefined;
      return;
    }
    const now = this.#now();
    const quietSince = stateSince();
    const due = (this.#quietWarnedAt ?? quietSince) + quietWarningAfter;
    if (now < due || this.#backlogCheckRunning) return;
    this.#quietWarnedAt = now;
    if (server.pendingTaskCount === undefined) {
      this.#warnQuiet(now - quietSince, undefined);
      return;
    }
    this.#backlogCheckRunning = true;
    server.pendingTaskCount().then(
      (pending) => {
        this.#backlogCheckRunning = false;
        if (pending > 0 && server.state === 'quiet') this.#warnQuiet(this.#now() - quietSince, pending);
      },
      (error: unknown) => {
        this.#backlogCheckRunning = false;
        this.#options.logger.warn({ error }, 'could not count pending tasks for the quiet check');
        this.#warnQuiet(this.#now() - quietSince, undefined);
      },
    );
  }

  #warnQuiet(quietForMs: number, pending: number | undefined): void {
    const backlog =
      pending === undefined ? 'its queues may hold tasks' : `${pending} tasks are pending in its queues`;
    this.#options.logger.warn(
      { quietForMs, pendingTasks: pending },
      `the server has been quiet for ${Math.round(quietForMs / 1000)} s and ${backlog}; send SIGCONT to resume or SIGTERM to shut it down`,
    );
  }
}
