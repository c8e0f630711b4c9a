import { toMilliseconds, ValidationError, type Duration } from '@q/core';

const rateLimitedMarker = Symbol.for('@q/rate-limited');

/** The longest wait a handler may ask for: beyond a day, archive or schedule the task instead. */
const maximumRetryAfter = 86_400_000;

export interface RateLimitedErrorOptions {
  /** @default 'rate limited; retry after <N> ms' */
  message?: string;
  cause?: unknown;
  /**
   * What waits `retryAfter`: the whole `'queue'`, or only the tasks of this task's flow key
   * (`'flowKey'`, the `flowKey` enqueue option: a tenant's own quota ran out, the other tenants go on).
   * A task without a flow key pauses the queue.
   * @default 'queue'
   */
  scope?: 'queue' | 'flowKey';
}

/**
 * Throw this from a handler (or wrap it as a `cause`) when the service the task calls said "too many
 * requests, come back in N" (an HTTP 429 or 503 with `Retry-After`). The task goes back to the head of
 * its queue without spending a retry, and, with a broker that has flow control (the Redis broker), the
 * whole queue waits `retryAfter` on every @q server. Without flow control only this task waits.
 *
 * ```ts
 * if (response.status === 429) throw RateLimitedError.fromRetryAfter(response.headers.get('retry-after'));
 * ```
 */
export class RateLimitedError extends Error {
  readonly [rateLimitedMarker] = true;
  /** How long the queue (or the flow key) waits, in milliseconds. */
  readonly retryAfter: number;
  /** What waits: the queue, or the task's flow key. */
  readonly scope: 'queue' | 'flowKey';

  /** `retryAfter`: milliseconds or a string such as `'30s'`; more than 0 and at most a day. */
  constructor(retryAfter: Duration, options: RateLimitedErrorOptions = {}) {
    const milliseconds = toMilliseconds(retryAfter, 'retryAfter');
    if (milliseconds <= 0 || milliseconds > maximumRetryAfter) {
      throw new ValidationError(
        `retryAfter must be more than 0 and at most 1 day, got ${milliseconds} ms; for longer waits schedule the task again instead.`,
        [{ path: 'retryAfter', message: 'out of range' }],
      );
    }
    super(
      options.message ?? `rate limited; retry after ${Math.ceil(milliseconds)} ms`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RateLimitedError';
    this.retryAfter = Math.ceil(milliseconds);
    const scope = options.scope ?? 'queue';
    if (scope !== 'queue' && scope !== 'flowKey') {
      throw new ValidationError(`scope must be 'queue' or 'flowKey', got ${String(scope)}.`, [
        { path: 'scope', message: 'unknown scope' },
      ]);
    }
    this.scope = scope;
  }

  /**
   * From an HTTP `Retry-After` header: delay-seconds (`'120'`) or an HTTP date. A missing or unreadable
   * value, or a date already past, gives `fallback`.
   * @param fallback @default '1s'
   */
  static fromRetryAfter(
    header: string | null | undefined,
    options: RateLimitedErrorOptions & { fallback?: Duration; now?: number } = {},
  ): RateLimitedError {
    const { fallback = 1000, now = Date.now(), ...rest } = options;
    const text = header?.trim() ?? '';
    let milliseconds: number | undefined;
    if (/^\d+$/.test(text)) milliseconds = Number(text) * 1000;
    else if (text !== '') {
      const date = Date.parse(text);
      if (Number.isFinite(date) && date > now) milliseconds = date - now;
    }
    if (milliseconds === undefined || milliseconds <= 0) milliseconds = toMilliseconds(fallback, 'fallback');
    return new RateLimitedError(Math.min(milliseconds, maximumRetryAfter), rest);
  }

  /** The `RateLimitedError` in `error` or its `cause` chain, from any copy of this package. */
  static find(error: unknown): { retryAfter: number; scope?: 'queue' | 'flowKey' } | undefined {
    let current: unknown = error;
    for (let depth = 0; depth < 16; depth += 1) {
      if (typeof current !== 'object' || current === null) return undefined;
      if ((current as Record<symbol, unknown>)[rateLimitedMarker] === true) {
        return current as { retryAfter: number; scope?: 'queue' | 'flowKey' };
      }
      current = (current as { cause?: unknown }).cause;
    }
    return undefined;
  }
}
