import type { Logger } from '@q/core';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it is told, for tests that check what the server says. */
export function memoryLogger(): Logger & {
  entries: LogEntry[];
  messages: (level?: LogEntry['level']) => string[];
} {
  const entries: LogEntry[] = [];
  const log =
    (level: LogEntry['level']) =>
    (first: Record<string, unknown> | string, second?: string): void => {
      if (typeof first === 'string') entries.push({ level, message: first, fields: {} });
      else entries.push({ level, message: second ?? '', fields: first });
    };
  return {
    entries,
    messages: (level) =>
      entries.filter((entry) => !level || entry.level === level).map((entry) => entry.message),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
}
