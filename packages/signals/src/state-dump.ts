/**
 * The picture of a worker that SIGUSR2, the watchdog and the health endpoint show: its state and since
 * when, the recent signals, and every running task with its age. Times are ISO strings so that a log
 * reader does not have to convert them.
 */
import type { ServerLikeTask, ServerLikeState, ServerLike } from './server-like';

/** A signal as `run()` received and handled it. */
export interface ReceivedSignal {
  signal: string;
  /** Unix milliseconds. */
  receivedAt: number;
  stateBefore: ServerLikeState;
  stateAfter: ServerLikeState;
  /** What the signal did, in words, e.g. `graceful shutdown started`. */
  outcome: string;
}

export interface RunningTaskDescription {
  id: string;
  type: string;
  queue: string;
  startedAt: string;
  ageMs: number;
  overdue: boolean;
}

export interface StateDump {
  pid: number;
  state: ServerLikeState;
  stateSince: string;
  stateAgeMs: number;
  lastFetchAt: string | undefined;
  /** Milliseconds since the fetch loop last ran; undefined before its first run. */
  fetchAgeMs: number | undefined;
  brokerReachable: boolean;
  recentSignals: { signal: string; receivedAt: string; outcome: string }[];
  runningTasks: RunningTaskDescription[];
}

export function describeRunningTasks(
  tasks: readonly ServerLikeTask[],
  now: number,
): RunningTaskDescription[] {
  return tasks.map((task) => ({
    id: task.id,
    type: task.type,
    queue: task.queue,
    startedAt: new Date(task.startedAt).toISOString(),
    ageMs: Math.max(0, now - task.startedAt),
    overdue: task.overdue,
  }));
}

/** The parts of a server a state dump reads. */
export type ServerView = Pick<ServerLike, 'state' | 'lastFetchAt' | 'brokerReachable' | 'runningTasks'>;

export interface StateDumpInput {
  server: ServerView;
  pid: number;
  stateSince: number;
  recentSignals: readonly ReceivedSignal[];
  now: number;
}

export function buildStateDump({ server, pid, stateSince, recentSignals, now }: StateDumpInput): StateDump {
  const lastFetchAt = server.lastFetchAt;
  return {
    pid,
    state: server.state,
    stateSince: new Date(stateSince).toISOString(),
    stateAgeMs: Math.max(0, now - stateSince),
    lastFetchAt: lastFetchAt === undefined ? undefined : new Date(lastFetchAt).toISOString(),
    fetchAgeMs: lastFetchAt === undefined ? undefined : Math.max(0, now - lastFetchAt),
    brokerReachable: server.brokerReachable,
    recentSignals: recentSignals.map((received) => ({
      signal: received.signal,
      receivedAt: new Date(received.receivedAt).toISOString(),
      outcome: received.outcome,
    })),
    runningTasks: describeRunningTasks(server.runningTasks(), now),
  };
}
