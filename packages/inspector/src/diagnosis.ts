/** What `Inspector.diagnose()` returns: findings, each with its evidence and what to do. */

export type FindingSeverity = 'error' | 'warning' | 'info';

/** Stable names of the problems the diagnosis can find; scripts may rely on them. */
export const findingCodes = [
  /** The queue asked about does not exist (perhaps a typo). */
  'queue-not-found',
  /** A queue holds tasks but no running server fetches from it. */
  'queue-unserved',
  /** A queue holds tasks that no server lists, while servers list a similar name: a typo on one side. */
  'queue-name-mismatch',
  /** A server is quiet, draining or shutting down, not fetching new tasks. */
  'server-not-running',
  'queue-paused',
  /** Every slot of every server of the queue is busy while tasks wait. */
  'workers-saturated',
  /** Handlers that overran their deadline and still hold their slot. */
  'tasks-overdue',
  /** Active tasks whose lease expired: their worker died. */
  'tasks-orphaned',
  /** Tasks fail because no handler is registered for their type. */
  'handler-not-found',
  /** Tasks wait while servers list the queue, and nothing is processed. */
  'backlog-stalled',
  /** Tasks wait because the queue's rate limit (or a handler's "come back later") holds it back. */
  'queue-rate-limited',
  /** Tasks wait because as many tasks of the queue run as its concurrency limit allows. */
  'queue-at-concurrency-limit',
  /** A queue with flow limits is served by Go Asynq servers, which do not obey them. */
  'flow-limits-ignored',
  /** Nothing is pending because the tasks are due later. */
  'tasks-scheduled-later',
  /** The store evicts keys when full: tasks can vanish. */
  'store-evicts-keys',
  'store-memory-high',
  /** A server says it cannot reach the store. */
  'server-store-unreachable',
  /** Clocks of servers (or of this machine) disagree with the store's. */
  'clock-skew',
] as const;

export type FindingCode = (typeof findingCodes)[number];

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  /** One sentence: what is wrong. */
  summary: string;
  /** The facts behind it, one per line, readable as they are. */
  evidence: string[];
  /** What to do about it. */
  action: string;
  /** The queue concerned, when one. */
  queue?: string;
  /** The server concerned (`host:pid:serverId`), when one. */
  server?: string;
  /** The same facts for scripts. */
  data: Record<string, unknown>;
}

export interface Diagnosis {
  /** When the diagnosis started. */
  checkedAt: Date;
  /** The queues examined. */
  queues: string[];
  /** How many live servers were seen. */
  servers: number;
  /** Worst first. */
  findings: Finding[];
  /** Checks that could not run, and why (e.g. the broker does not report store facts). */
  skipped: string[];
  /** True when no finding is an error or a warning. */
  healthy: boolean;
}

const severityOrder: Record<FindingSeverity, number> = { error: 0, warning: 1, info: 2 };

export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityOrder[a.severity] - severityOrder[b.severity] ||
    (a.queue ?? '').localeCompare(b.queue ?? '') ||
    a.code.localeCompare(b.code)
  );
}
