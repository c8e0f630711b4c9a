/**
 * Which signal does what. Only these signals get a handler; every other signal keeps Node's default.
 * The handlers are explicit so that the process behaves the same as PID 1 in a container, where a signal
 * with no handler is ignored instead of ending the process.
 */

/**
 * - `quiet`: stop taking tasks; running handlers finish and keep their leases.
 * - `resume`: take tasks again.
 * - `shutdown`: graceful shutdown; a second one during a shutdown forces it.
 * - `hangup`: graceful shutdown that a later `hangup` never forces (a closing terminal may send several).
 * - `dump`: write the state to the log, nothing else.
 */
export type SignalAction = 'quiet' | 'resume' | 'shutdown' | 'hangup' | 'dump';

const posixActions: Readonly<Record<string, SignalAction>> = {
  SIGTSTP: 'quiet',
  SIGCONT: 'resume',
  SIGTERM: 'shutdown',
  SIGINT: 'shutdown',
  SIGHUP: 'hangup',
  SIGUSR2: 'dump',
};

// Windows delivers no job-control or user signals to Node.
const windowsActions: Readonly<Record<string, SignalAction>> = {
  SIGTERM: 'shutdown',
  SIGINT: 'shutdown',
};

/** The signals `run()` handles on `platform`, and what each does. */
export function signalActions(platform: NodeJS.Platform): ReadonlyMap<NodeJS.Signals, SignalAction> {
  const table = platform === 'win32' ? windowsActions : posixActions;
  return new Map(Object.entries(table) as [NodeJS.Signals, SignalAction][]);
}
