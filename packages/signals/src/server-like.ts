/**
 * Exactly what `run()` uses of a server. `Server` from `@q/server` has all of it; the interface exists so
 * that the signal handling, the watchdog and the health endpoint can be read, tested and reused without it.
 *
 * `@q/server` owns `ServerLifecycleState`, `ServerStateChange` and `RunningTask`. The `ServerLike*` types
 * here are the part of them that `run()` reads (a running task without its deadline, say), so that any
 * object with that shape fits; they carry their own names so that no type name means two shapes.
 */
import type { Logger } from '@q/core';

/** The server's lifecycle, as `Server.state` reports it (`ServerLifecycleState` in `@q/server`). */
export type ServerLikeState = 'new' | 'running' | 'quiet' | 'draining' | 'closed';

/** A task whose handler is running, as the server reports it: the fields `run()` reads of `RunningTask`. */
export interface ServerLikeTask {
  id: string;
  type: string;
  queue: string;
  /** When the handler started, Unix milliseconds. */
  startedAt: number;
  /** The handler overran its timeout or deadline and has not settled. */
  overdue: boolean;
}

/** A change of `ServerLike.state`. */
export interface ServerLikeStateChange {
  from: ServerLikeState;
  to: ServerLikeState;
  /** When the change happened, Unix milliseconds. */
  at: number;
}

export interface ServerShutdownOptions {
  /** How long running handlers may take before they are aborted and their tasks requeued. */
  timeout?: number;
  /** Abort every handler at once and requeue its task, without waiting. */
  force?: boolean;
}

export interface ServerLike<Handler = unknown> {
  readonly state: ServerLikeState;
  /** The shutdown timeout the server was configured with, in milliseconds. */
  readonly shutdownTimeout: number;
  /** The last time the fetch loop ran, Unix milliseconds; undefined before its first run. */
  readonly lastFetchAt: number | undefined;
  /** Whether the broker answered the server's last call. */
  readonly brokerReachable: boolean;
  /** The logger the server was given; `run()` uses it unless given its own. */
  readonly logger?: Logger;

  start(handler: Handler): Promise<void>;
  /** Quiet: no new dequeues; running handlers finish and keep their leases. */
  stop(): void;
  /** Leaves quiet. */
  resume(): void;
  /** Resolves once the server is closed, within `timeout` plus a small bound. */
  shutdown(options?: ServerShutdownOptions): Promise<void>;
  /** Stores the signal in the lifecycle the server publishes with its heartbeat. */
  recordSignal(signal: string): void;
  runningTasks(): readonly ServerLikeTask[];
  /** How many tasks wait in the server's queues (pending), for the quiet-with-backlog warning. */
  pendingTaskCount?(): Promise<number>;
  on(event: 'state', listener: (change: ServerLikeStateChange) => void): unknown;
  off(event: 'state', listener: (change: ServerLikeStateChange) => void): unknown;
}
