/**
 * The logging shape packages accept: pino's (`logger.info({ taskId }, 'message')` or `logger.info('message')`).
 * Packages never print by themselves; pass pino, or any object with these four methods.
 */
export interface LogFunction {
  (message: string): void;
  (fields: Record<string, unknown>, message?: string): void;
}

export interface Logger {
  debug: LogFunction;
  info: LogFunction;
  warn: LogFunction;
  error: LogFunction;
}

const ignore: LogFunction = () => undefined;

/** The default: says nothing. */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
