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
  if (format === 'json') return pino({ level, timestamp: pino.stdTimeFunctions.isoTime });
  // Synchronous, so that the last lines before the process exits are not lost.
  const stream = pretty({
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
  });
  return pino({ level }, stream);
}
