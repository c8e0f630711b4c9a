/** What `Inspector.diagnose()` returns: findings, each with its evidence and what to do, as data. */

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

/**
 * What to do about a finding, as data: the CLI prints it as a command, the dashboard as a sentence or a
 * button, a script acts on it. Several actions in one finding are alternatives or steps, first the likeliest.
 */
export type FindingAction =
  /** Resume the paused queue. */
  | { kind: 'resume-queue'; queue: string }
  /**
   * Send a signal to a server process: `SIGCONT` resumes a quiet @q server, `SIGTERM` shuts one down,
   * `SIGKILL` ends one whose shutdown is stuck.
   */
  | {
      kind: 'send-signal';
      signal: 'SIGCONT' | 'SIGTERM' | 'SIGKILL';
      pid: number;
      host: string;
      /** The server's id (`host:pid:serverId`). */
      server: string;
    }
  /** Start a server (or another one) with this queue among its queues. */
  | { kind: 'start-server'; queue: string }
  /** Cancel these running tasks. */
  | { kind: 'cancel-tasks'; taskIds: string[] }
  /** Make the handlers of these tasks stop when their abort signal fires (`context.signal`). */
  | { kind: 'honour-abort-signal'; taskIds: string[] }
  /** More slots for the queue: more servers, higher concurrency, or a larger weight. */
  | { kind: 'add-capacity'; queue: string }
  /** Move every task of the queue in this state to pending now. */
  | { kind: 'run-all-tasks'; queue: string; state: 'scheduled' | 'retry' | 'archived' }
  /** Delete every task in this state, in every queue (with `queue`, in that one). */
  | { kind: 'delete-all-tasks'; state: 'archived' | 'completed'; queue?: string }
  /** Register handlers for these task types on the queue's servers (or fix the type the producer uses). */
  | { kind: 'register-handler'; queue: string; taskTypes: string[] }
  /** Producers and servers use two names for one queue: use `similar` on both sides, or serve `queue` too. */
  | { kind: 'use-one-queue-name'; queue: string; similar: string }
  /** No such queue: check the queue name the producer uses. */
  | { kind: 'check-queue-name'; queue: string }
  /** The store holds no queue at all: check that the inspector reads the store (address, database, key prefix) the producers write to. */
  | { kind: 'check-store-address' }
  /** Read these servers' logs: their fetch loops may be stuck (restart them). */
  | { kind: 'check-server-logs'; servers: string[] }
  /** These servers serve higher queues first under strict priority; turn it off or add servers. */
  | { kind: 'turn-off-strict-priority'; servers: string[] }
  /** The server cannot reach the store: check the network path and credentials from its host. */
  | { kind: 'restore-store-connection'; server: string; host: string }
  /** The store drops keys when full: make it refuse writes instead (no eviction) and give it memory. */
  | { kind: 'stop-store-eviction'; policy: string }
  /** The store is nearly full: raise its memory limit, or delete old tasks and keep fewer. */
  | { kind: 'add-store-memory' }
  /** Synchronise the clocks of these hosts (NTP: chrony, systemd-timesyncd). */
  | { kind: 'synchronise-clocks'; hosts: string[]; leaseMs: number }
  /**
   * Raise the queue's flow limit (`concurrency` or `rate`) to let more through, if the limit is not needed;
   * with `perKey`, the limit each flow key has on its own.
   */
  | { kind: 'change-queue-limits'; queue: string; limit: 'concurrency' | 'rate'; perKey?: true }
  /** Remove the queue's flow limits and any pause a handler asked for. */
  | { kind: 'clear-queue-limits'; queue: string }
  /** Serve the queue with @q servers only: these Go Asynq servers do not obey its flow limits. */
  | { kind: 'serve-with-q-servers-only'; queue: string; servers: string[] }
  /**
   * Nothing to do: a running server recovers the tasks on its own (`recovers-on-its-own`), the tasks
   * wait for the time they were given (`as-scheduled`), or a pause a handler asked for ends by itself
   * (`pause-ends-on-its-own`).
   */
  | { kind: 'none'; reason: 'recovers-on-its-own' | 'as-scheduled' | 'pause-ends-on-its-own' };

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  /** One sentence: what is wrong, in plain words (no command, nothing particular to one broker). */
  summary: string;
  /** The facts behind it, one per line, readable as they are. */
  evidence: string[];
  /** What to do about it, as data (see `FindingAction`); a UI renders them. */
  actions: FindingAction[];
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
