/**
 * After SIGHUP the terminal is gone and every write to it fails (EIO, or EPIPE behind a pipe):
 * `process.stdout` and `process.stderr` report it as an 'error' event, and loggers that write to the
 * file descriptor throw it. Unhandled, either ends the process with its tasks mid-flight, which a hang-up
 * must never do. The guard drops those errors, and only those, for the rest of the shutdown, which the
 * watchdog still bounds.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '@q/core';

/** What the guard needs of `process`. */
export interface TerminalOwner {
  readonly stdout: EventEmitter;
  readonly stderr: EventEmitter;
  listenerCount(event: 'uncaughtException'): number;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  exit(code: number): void;
}

const guarded = new WeakSet<TerminalOwner>();
const terminalWriteErrors = new Set(['EIO', 'EPIPE']);

export function isTerminalWriteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && terminalWriteErrors.has(code);
}

export function guardClosedTerminal(owner: TerminalOwner, logger: Logger): void {
  if (guarded.has(owner)) return;
  guarded.add(owner);
  owner.stdout.on('error', () => undefined);
  owner.stderr.on('error', () => undefined);
  // An application with its own handler decides for itself.
  if (owner.listenerCount('uncaughtException') > 0) return;
  owner.on('uncaughtException', (error) => {
    if (isTerminalWriteError(error)) return;
    // What Node does by default, except that the message goes to the logger: stderr is gone.
    logger.error({ error }, 'uncaught exception; exiting with code 1');
    owner.exit(1);
  });
}
