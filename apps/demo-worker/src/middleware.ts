/**
 * Two middlewares around every handler: one logs each attempt's start and success, the other keeps timing
 * figures per task type and logs a summary now and then. The first registered is the outermost.
 */
import type { Logger } from '@q/core';
import type { Middleware } from '@q/server';

/**
 * Logs each attempt's start and success with its duration, at debug level (there are many). A failure is
 * not logged here: the server logs one line per failed attempt, with the type, queue, error and what
 * happens next ("task failed and will be retried" with `retryInMs` and `retried`, "task failed and was
 * archived" with `why`, or "task revoked and deleted"); a second line here would only repeat it.
 */
export function loggingMiddleware(logger: Logger): Middleware {
  return async (task, context, next) => {
    const startedAt = performance.now();
    const attempt = context.retryCount + 1;
    const fields = { taskId: task.id, type: task.type, queue: task.queue, attempt };
    logger.debug(fields, `start ${task.type}`);
    await next();
    logger.debug({ ...fields, durationMs: Math.round(performance.now() - startedAt) }, `done ${task.type}`);
  };
}

interface TypeTiming {
  count: number;
  failed: number;
  totalMs: number;
  maximumMs: number;
}

export interface TimingMiddleware {
  middleware: Middleware;
  /** Logs the figures collected since the last summary, then starts over. */
  logSummary(): void;
}

/** Counts attempts, failures and durations per task type. */
export function timingMiddleware(logger: Logger): TimingMiddleware {
  let timings = new Map<string, TypeTiming>();
  return {
    middleware: async (task, _context, next) => {
      const startedAt = performance.now();
      let failed = false;
      try {
        await next();
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        const elapsed = performance.now() - startedAt;
        const timing = timings.get(task.type) ?? { count: 0, failed: 0, totalMs: 0, maximumMs: 0 };
        timing.count += 1;
        timing.failed += failed ? 1 : 0;
        timing.totalMs += elapsed;
        timing.maximumMs = Math.max(timing.maximumMs, elapsed);
        timings.set(task.type, timing);
      }
    },
    logSummary: () => {
      if (timings.size === 0) return;
      const byType = Object.fromEntries(
        [...timings].map(([type, timing]) => [
          type,
          {
            count: timing.count,
            failed: timing.failed,
            averageMs: Math.round(timing.totalMs / timing.count),
            maximumMs: Math.round(timing.maximumMs),
          },
        ]),
      );
      const total = [...timings.values()].reduce((sum, timing) => sum + timing.count, 0);
      logger.info({ byType }, `timing: ${total} attempts since the last summary`);
      timings = new Map();
    },
  };
}
