/**
 * Every Redis key and channel name of Asynq's layout (docs/protocol.md), built from a prefix (`asynq` for
 * Go compatibility). Per-queue keys carry the hash tag `{queue}` so one queue lives in one Cluster slot.
 */
import { createHash } from 'node:crypto';
import { toUtcDate } from './unix-time';

/** The keys of one queue. */
export class QueueKeys {
  /** `P:{q}:` */
  readonly queuePrefix: string;
  /** `P:{q}:t:`, followed by a task id. */
  readonly taskPrefix: string;
  /** `P:{q}:g:`, followed by a group name. */
  readonly groupPrefix: string;
  readonly pending: string;
  readonly active: string;
  readonly lease: string;
  readonly scheduled: string;
  readonly retry: string;
  readonly archived: string;
  readonly completed: string;
  readonly paused: string;
  readonly processedTotal: string;
  readonly failedTotal: string;
  readonly groups: string;
  readonly aggregationSets: string;
  /** @q extension: the pub/sub channel on which producers announce new pending work. */
  readonly notify: string;
  /** @q extension: the queue's flow limits (hash), read by every @q server's dequeue. */
  readonly flow: string;
  /** @q extension: idle servers waiting for a hand-over (sorted set, see lua/include/hand-over.lua). */
  readonly waiters: string;
  /** @q extension: one member per task taken within the rate's period (sorted set, Redis-clock ms). */
  readonly flowStarts: string;
  /** @q extension: the flow keys with parked tasks (sorted set, scored by when to look at them again). */
  readonly flowParked: string;
  /** `P:{q}:flow:k:`, followed by a flow key and `:parked`, `:running` or `:starts`. */
  readonly flowKeyPrefix: string;

  constructor(
    prefix: string,
    readonly queue: string,
  ) {
    this.queuePrefix = `${prefix}:{${queue}}:`;
    this.taskPrefix = `${this.queuePrefix}t:`;
    this.groupPrefix = `${this.queuePrefix}g:`;
    this.pending = `${this.queuePrefix}pending`;
    this.active = `${this.queuePrefix}active`;
    this.lease = `${this.queuePrefix}lease`;
    this.scheduled = `${this.queuePrefix}scheduled`;
    this.retry = `${this.queuePrefix}retry`;
    this.archived = `${this.queuePrefix}archived`;
    this.completed = `${this.queuePrefix}completed`;
    this.paused = `${this.queuePrefix}paused`;
    this.processedTotal = `${this.queuePrefix}processed`;
    this.failedTotal = `${this.queuePrefix}failed`;
    this.groups = `${this.queuePrefix}groups`;
    this.aggregationSets = `${this.queuePrefix}aggregation_sets`;
    this.notify = `${this.queuePrefix}notify`;
    this.flow = `${this.queuePrefix}flow`;
    this.waiters = `${this.queuePrefix}waiters`;
    this.flowStarts = `${this.queuePrefix}flow:starts`;
    this.flowParked = `${this.queuePrefix}flow:parked`;
    this.flowKeyPrefix = `${this.queuePrefix}flow:k:`;
  }

  task(taskId: string): string {
    return `${this.taskPrefix}${taskId}`;
  }

  /** Today's (UTC) processed counter for the day of `milliseconds`. */
  processed(milliseconds: number): string {
    return `${this.queuePrefix}processed:${toUtcDate(milliseconds)}`;
  }

  failed(milliseconds: number): string {
    return `${this.queuePrefix}failed:${toUtcDate(milliseconds)}`;
  }

  group(group: string): string {
    return `${this.groupPrefix}${group}`;
  }

  aggregationSet(group: string, setId: string): string {
    return `${this.groupPrefix}${group}:${setId}`;
  }

  /**
   * The uniqueness lock of (queue, type, payload): `P:{q}:unique:<type>:<md5 hex of payload>`. An empty
   * payload gives `P:{q}:unique:<type>:` with no checksum, as Go does for a nil payload (a task created
   * without one), so that @q and Go agree for payload-less tasks.
   */
  unique(taskType: string, payload: Uint8Array): string {
    const checksum = payload.length === 0 ? '' : createHash('md5').update(payload).digest('hex');
    return `${this.queuePrefix}unique:${taskType}:${checksum}`;
  }
}

/** A server's or scheduler's identity as it appears in its keys: `{<host>:<pid>:<id>}`. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  id: string;
}

const maxCachedQueues = 1000;

export class RedisKeys {
  /** The set of every queue name. */
  readonly queues: string;
  readonly servers: string;
  readonly workers: string;
  readonly schedulers: string;
  /** The pub/sub channel carrying ids of tasks to cancel. */
  readonly cancel: string;
  private readonly queueKeys = new Map<string, QueueKeys>();

  constructor(readonly prefix: string) {
    this.queues = `${prefix}:queues`;
    this.servers = `${prefix}:servers`;
    this.workers = `${prefix}:workers`;
    this.schedulers = `${prefix}:schedulers`;
    this.cancel = `${prefix}:cancel`;
  }

  /** The keys of `queue`; made once per queue name (they are on the path of every task). */
  queue(queue: string): QueueKeys {
    let keys = this.queueKeys.get(queue);
    if (keys === undefined) {
      // Bounded, for callers that make up queue names without end.
      if (this.queueKeys.size >= maxCachedQueues) this.queueKeys.clear();
      keys = new QueueKeys(this.prefix, queue);
      this.queueKeys.set(queue, keys);
    }
    return keys;
  }

  serverInfo(identity: ProcessIdentity): string {
    return `${this.servers}:{${identity.host}:${identity.pid}:${identity.id}}`;
  }

  workersOf(identity: ProcessIdentity): string {
    return `${this.workers}:{${identity.host}:${identity.pid}:${identity.id}}`;
  }

  schedulerEntries(identity: ProcessIdentity): string {
    return `${this.schedulers}:{${identity.host}:${identity.pid}:${identity.id}}`;
  }

  schedulerHistory(entryId: string): string {
    return `${this.prefix}:scheduler_history:${entryId}`;
  }

  /**
   * The identity inside a `P:servers:{…}`, `P:workers:{…}` or `P:schedulers:{…}` key. The host may
   * itself contain colons, so the pid and id are taken from the right.
   */
  static parseIdentity(key: string): ProcessIdentity {
    const start = key.indexOf('{');
    const end = key.lastIndexOf('}');
    const inner = start >= 0 && end > start ? key.slice(start + 1, end) : key;
    const parts = inner.split(':');
    if (parts.length < 3) return { host: '', pid: 0, id: inner };
    const id = parts.pop() ?? '';
    const pid = Number(parts.pop());
    return { host: parts.join(':'), pid: Number.isFinite(pid) ? pid : 0, id };
  }
}
