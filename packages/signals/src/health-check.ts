/**
 * What the health endpoint answers, decided from the server's state alone so that it can be tested
 * without HTTP. Live (`/healthz`) fails when the process is not making progress and cannot say it is
 * fine: the fetch loop has not run recently, the broker is unreachable, or it is shutting down. Ready
 * (`/readyz`) fails in those cases and also whenever the server is not taking tasks (new or quiet).
 */
import type { ServerLikeState, ServerLike } from './server-like';

export type HealthProbe = 'live' | 'ready';

export interface HealthReport {
  ok: boolean;
  /** Why the check failed; empty when `ok`. */
  reasons: string[];
  state: ServerLikeState;
  stateSince: string;
  lastFetchAt: string | undefined;
  brokerReachable: boolean;
  lastSignal: string | undefined;
  lastSignalAt: string | undefined;
  runningTasks: number;
  overdueTasks: number;
}

export interface HealthInput {
  server: Pick<ServerLike, 'state' | 'lastFetchAt' | 'brokerReachable' | 'runningTasks'>;
  stateSince: number;
  lastSignal: { signal: string; receivedAt: number } | undefined;
  /** The fetch loop counts as stuck when it has not run for this long, in milliseconds. */
  fetchStaleAfter: number;
  now: number;
}

export function checkHealth(probe: HealthProbe, input: HealthInput): HealthReport {
  const { server, stateSince, lastSignal, fetchStaleAfter, now } = input;
  const state = server.state;
  const lastFetchAt = server.lastFetchAt;
  const brokerReachable = server.brokerReachable;
  const reasons: string[] = [];

  if (state === 'draining') reasons.push('the server is shutting down (draining)');
  if (state === 'closed') reasons.push('the server is closed');
  if (probe === 'ready' && state === 'new') reasons.push('the server has not started yet');
  if (probe === 'ready' && state === 'quiet')
    reasons.push('the server is quiet (SIGTSTP): it takes no new tasks');
  if (!brokerReachable && state !== 'closed') reasons.push('the broker is unreachable');
  if (state === 'running') {
    // Count from when the state began if that is later (a loop that never ran, or one just resumed).
    const fetchAge = now - Math.max(lastFetchAt ?? 0, stateSince);
    if (fetchAge > fetchStaleAfter) {
      reasons.push(
        `the fetch loop has not run for ${fetchAge} ms (limit ${fetchStaleAfter} ms)` +
          (lastFetchAt === undefined ? '; it never ran' : ''),
      );
    }
  }

  const tasks = server.runningTasks();
  return {
    ok: reasons.length === 0,
    reasons,
    state,
    stateSince: new Date(stateSince).toISOString(),
    lastFetchAt: lastFetchAt === undefined ? undefined : new Date(lastFetchAt).toISOString(),
    brokerReachable,
    lastSignal: lastSignal?.signal,
    lastSignalAt: lastSignal === undefined ? undefined : new Date(lastSignal.receivedAt).toISOString(),
    runningTasks: tasks.length,
    overdueTasks: tasks.filter((task) => task.overdue).length,
  };
}
