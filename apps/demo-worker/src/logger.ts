/**
 * The demo's logger: pino, printed one readable line per entry when stdout is a terminal, and as JSON
 * lines otherwise (or with LOG_FORMAT=json), which is what a log collector wants. LOG_LEVEL=debug also
 * shows every task that starts and finishes.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(environment = process.env): Logger {
  const level = environment.LOG_LEVEL ?? 'info';
  const format = environment.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json');
  // Synchronous, so that the last lines before the process exits are not lost.
  const destination = pino.destination({ fd: 1, sync: true });
  // Once the terminal is closed (SIGHUP), every write fails with EIO: drop the lines instead of
  // crashing, so that the graceful shutdown the hang-up started can finish the running tasks.
  destination.on('error', () => undefined);
  if (format === 'json') return pino({ level, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const stream = pretty({
    destination,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
  });
  return pino({ level }, stream);
}
