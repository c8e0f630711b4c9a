/**
 * ioredis emits an `error` event on every failed reconnect attempt, and prints it to the console when
 * nobody listens. This listener hands them to the logger instead, once per distinct message per interval,
 * with the error's message only (never the connection options, which may hold a password).
 */
import type { Logger } from '@q/core';

export function connectionErrorLogger(
  logger: Logger,
  connectionName: string,
  intervalMilliseconds = 10_000,
): (error: Error) => void {
  let lastMessage = '';
  let lastLoggedAt = 0;
  return (error) => {
    const now = Date.now();
    if (error.message === lastMessage && now - lastLoggedAt < intervalMilliseconds) return;
    lastMessage = error.message;
    lastLoggedAt = now;
    logger.warn({ connection: connectionName, error: error.message }, 'Redis connection error');
  };
}
