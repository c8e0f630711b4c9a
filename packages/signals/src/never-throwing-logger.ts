/**
 * A logger that cannot throw. After SIGHUP the terminal may be gone and a logger that writes to it can
 * throw (EIO); a throw inside a signal handler would end the process with its tasks mid-flight, which is
 * what a hang-up must never do. A line that cannot be written is dropped.
 */
import type { LogFunction, Logger } from '@q/core';

function guard(log: LogFunction, owner: Logger): LogFunction {
  return (...parts: [Record<string, unknown> | string, string?]): void => {
    try {
      Reflect.apply(log, owner, parts);
    } catch {
      // The line is lost; the process goes on.
    }
  };
}

export function neverThrowingLogger(logger: Logger): Logger & { flush(): void } {
  const flushable = logger as Logger & { flush?: () => void };
  return {
    debug: guard(logger.debug, logger),
    info: guard(logger.info, logger),
    warn: guard(logger.warn, logger),
    error: guard(logger.error, logger),
    flush: () => {
      try {
        flushable.flush?.();
      } catch {
        // Exiting matters more than the last log line.
      }
    },
  };
}
