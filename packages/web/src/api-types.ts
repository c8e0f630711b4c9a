/**
 * The JSON the dashboard's API answers, shared by the handler and the browser app. Times are ISO 8601
 * strings, durations milliseconds, byte strings `Bytes` previews.
 */

export type TaskStateName =
  'active' | 'pending' | 'aggregating' | 'scheduled' | 'retry' | 'archived' | 'completed';

/** A payload, result or error shown in the page: as text when it is UTF-8, always as hex too. */
export interface Bytes {
  /** Total size in bytes. */
  size: number;
  /** Whether the bytes are valid UTF-8 without control characters other than whitespace. */
  isText: boolean;
  /** The first `shown` bytes as text (when `isText`). */
  text?: string;
  /** The first `shown` bytes as a hex dump. */
  hex: string;
  /** How many bytes `text` and `hex` cover; less than `size` when cut. */
  shown: number;
}

export interface DashboardConfig {
  basePath: string;
  readOnly: boolean;
  csrfToken: string;
  /** Milliseconds between live refreshes. */
  refreshInterval: number;
  title: string;
  /** Where the data comes from (a Redis address without its password), when the host said. */
  source?: string;
  version: string;
}

export interface QueueSummary {
  queue: string;
  size: number;
  groups: number;
  latency: number;
  memoryUsage: number;
  active: number;
  pending: number;
  aggregating: number;
  scheduled: number;
  retry: number;
  archived: number;
  completed: number;
  processedToday: number;
  failedToday: number;
  processedTotal: number;
  failedTotal: number;
  paused: boolean;
  timestamp: string;
  /** Flow limits every @q server obeys, when the queue has any. */
  limits?: QueueLimitsSummary;
}

export interface QueueLimitsSummary {
  concurrency?: number;
  /** At most `limit` tasks started per `period` ms. */
  rate?: { limit: number; period: number };
  /** Tasks of the queue leased now, on every server. */
  running: number;
  startedInWindow: number;
  /** Until when a handler's RateLimitedError holds the queue back. */
  pausedUntil?: string;
  /** Limits each flow key has on its own, and the tasks parked because their key is at its limit. */
  perKey?: {
    concurrency?: number;
    rate?: { limit: number; period: number };
    parked: number;
    parkedKeys: number;
    /** `pausedUntil`: Unix ms. */
    keys: { key: string; parked: number; running: number; startedInWindow: number; pausedUntil?: number }[];
  };
}

export interface DailyCount {
  queue: string;
  date: string;
  processed: number;
  failed: number;
}

export interface QueuesResponse {
  queues: QueueSummary[];
  /** Per day (UTC, oldest first), summed over every queue. */
  history: { date: string; processed: number; failed: number }[];
}

export interface QueueResponse {
  queue: QueueSummary;
  history: DailyCount[];
  groups: { group: string; size: number }[];
}

export interface TaskSummary {
  id: string;
  queue: string;
  type: string;
  state: TaskStateName;
  payload: Bytes;
  maxRetry: number;
  retried: number;
  lastError?: string;
  lastFailedAt?: string;
  nextProcessAt?: string;
  completedAt?: string;
  group?: string;
  isOrphaned: boolean;
}

export interface TaskDetail extends TaskSummary {
  headers: Record<string, string>;
  timeout: number;
  deadline?: string;
  retention: number;
  result?: Bytes;
}

export interface TasksResponse {
  queue: string;
  state: TaskStateName;
  group?: string;
  page: number;
  pageSize: number;
  /** How many tasks the queue holds in this state (group). */
  total: number;
  tasks: TaskSummary[];
}

export interface WorkerSummary {
  taskId: string;
  taskType: string;
  queue: string;
  payload: Bytes;
  startedAt: string;
  deadline: string;
  overdue: boolean;
}

export interface ServerSummary {
  id: string;
  serverId: string;
  host: string;
  pid: number;
  concurrency: number;
  queues: Record<string, number>;
  strictPriority: boolean;
  /** running, quiet, draining, forced, closed (from the lifecycle, or from Asynq's status for Go servers). */
  state: string;
  status: string;
  startedAt: string;
  activeWorkerCount: number;
  activeWorkers: WorkerSummary[];
  /** Absent for servers written by Go Asynq. */
  lifecycle?: {
    state: string;
    stateSince: string;
    lastSignal?: string;
    lastSignalAt?: string;
    lastFetchAt?: string;
    overdueTaskIds: string[];
    brokerReachable?: boolean;
    version?: string;
  };
  expiresAt: string;
}

export interface SchedulerEntrySummary {
  id: string;
  spec: string;
  taskType: string;
  payload: Bytes;
  options: string[];
  nextEnqueueAt: string;
  previousEnqueueAt?: string;
  scheduler: { host: string; pid: number; schedulerId: string };
}

export interface SchedulerHistoryResponse {
  entryId: string;
  page: number;
  pageSize: number;
  events: { taskId: string; enqueuedAt: string }[];
}

export interface RedisResponse {
  source?: string;
  store?: {
    time: string;
    version: string;
    mode: string;
    evictionPolicy?: string;
    maxMemory?: number;
    usedMemory?: number;
  };
  /** Why the store facts could not be read. */
  storeError?: string;
  queues: { queue: string; memoryUsage: number; size: number }[];
}

/** One thing to do about a finding: its kind (`FindingAction` of `@q/inspector`) and the dashboard's words. */
export interface FindingActionView {
  kind: string;
  text: string;
  /** For `resume-queue`: the queue the page offers to resume. */
  queue?: string;
}

export interface FindingView {
  code: string;
  severity: 'error' | 'warning' | 'info';
  summary: string;
  evidence: string[];
  /** What to do, first the likeliest; several are alternatives or steps. */
  actions: FindingActionView[];
  queue?: string;
  server?: string;
}

export interface DoctorResponse {
  checkedAt: string;
  queues: string[];
  servers: number;
  findings: FindingView[];
  skipped: string[];
  healthy: boolean;
}

export interface SearchResponse {
  id: string;
  matches: TaskSummary[];
}

export interface ActionResponse {
  ok: true;
  /** What was done, in a sentence. */
  message: string;
  /** For bulk actions: how many tasks. */
  count?: number;
}

export interface ErrorResponse {
  error: string;
  code: string;
}
