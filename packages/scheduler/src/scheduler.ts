/**
 * Asynq's Scheduler, safe to run as many copies. Every copy computes the same ticks and gives the task of
 * a tick the same id (`<entry id>@<tick time>`), so the broker accepts it from one copy and refuses it to
 * the others with a task id conflict, which here means "already done". The task is kept (as completed) at
 * least `duplicateWindow` after it succeeds, so that a copy that wakes a little late still finds the id
 * taken; a copy later than that treats the tick as missed and asks the entry's enqueue history.
 *
 * Entries are published where Asynq's CLI and web UI look (`P:schedulers:{…}`, with the heartbeat TTL)
 * and each enqueue is recorded in `P:scheduler_history:<entry id>`. Unlike Asynq, the history is kept at
 * shutdown: it is how a restarted scheduler learns which ticks it missed.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Client, type EnqueueInterceptor } from '@q/client';
import {
  DuplicateTaskError,
  jsonCodec,
  ShutdownError,
  silentLogger,
  TaskIdConflictError,
  toMilliseconds,
  ValidationError,
  type Duration,
  type Logger,
  type PayloadCodec,
  type SchedulerEnqueueEvent,
  type SchedulerEntryState,
  type SchedulerIdentity,
  type SchedulerStore,
  type TaskInfo,
  type TaskOptions,
  type TaskProducer,
} from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import type { NormalizedTaskOptions } from './asynq-option-strings';
import { assertTimezone, type Schedule } from './schedule';
import {
  prepareEntry,
  tickTaskId,
  type EntryOptions,
  type PreparedEntry,
  type ScheduledTask,
} from './scheduler-entry';

/** What a scheduler needs from a broker: enqueue, publish entries and history, and read its own history back. */
export type SchedulerBroker = TaskProducer & SchedulerStore;

/** One attempt to enqueue the task of a tick, as the hooks see it. */
export interface TickEvent {
  entryId: string;
  spec: string;
  type: string;
  payload: Uint8Array;
  /** The entry's task options, durations in milliseconds. */
  options: NormalizedTaskOptions;
  /** The tick, Unix milliseconds. */
  tickAt: number;
  /** The tick's task id, the same in every copy of the scheduler. */
  taskId: string;
  /** True when the tick is enqueued late, under the `'once'` missed-tick policy. */
  catchUp: boolean;
}

/** How an attempt ended. Every copy of a scheduler sees one `'enqueued'` per tick; the others see `'enqueued-elsewhere'`. */
export type TickOutcome =
  | { status: 'enqueued'; info: TaskInfo }
  /**
   * Another copy of the scheduler enqueued this tick. Not an error. `foundBy`: the tick was in the entry's
   * history, or the broker refused the tick's task id.
   */
  | { status: 'enqueued-elsewhere'; foundBy: 'history' | 'taskId' }
  /** The task's `unique` lock is held, by this tick's task from another copy or by an earlier tick's. */
  | { status: 'duplicate'; error: DuplicateTaskError }
  | { status: 'failed'; error: unknown };

export interface SchedulerOptions {
  /** Where tasks, entries and history go: `createRedisBroker(...)`. */
  broker: SchedulerBroker;
  /**
   * The IANA time zone of specs without a `CRON_TZ=` prefix. Give every copy the same one; the host's
   * own zone is never used, so that copies on different hosts agree.
   * @default 'UTC'
   */
  timezone?: string;
  /** Called before every attempt to enqueue a tick, in every copy. A throw is logged and ignored. */
  beforeEnqueue?: (event: TickEvent) => void | Promise<void>;
  /** Called after every attempt with its outcome. A throw is logged and ignored. */
  afterEnqueue?: (event: TickEvent, outcome: TickOutcome) => void | Promise<void>;
  /** A pino-shaped logger. @default silent */
  logger?: Logger;
  /** Turns payload values into bytes, once per entry at registration. @default jsonCodec */
  codec?: PayloadCodec;
  /**
   * How often the entries are published. They expire after twice this (whole seconds) unless refreshed.
   * @default '10s' (Asynq's)
   */
  heartbeatInterval?: Duration;
  /**
   * How late a copy may enqueue a tick and still be recognised as a duplicate. Each task a scheduler
   * enqueues is kept as `completed` at least this long after it succeeds (its `retention` is raised to
   * it), so its id stays taken. A tick noticed later than this is treated as missed (see `missedTicks`).
   * Raise it above the largest clock difference between the hosts that run copies.
   * @default '1m'
   */
  duplicateWindow?: Duration;
  /** The clock, Unix milliseconds; for tests. @default Date.now */
  now?: () => number;
  /**
   * Run around every enqueue of a tick, as a client's `interceptors` do (`@q/otel` traces each tick as a
   * trace of its own). @default []
   */
  interceptors?: readonly EnqueueInterceptor[];
}

interface Entry extends PreparedEntry {
  /** Ticks at or before this time are handled by this process. */
  handledUpTo: number;
  nextTickAt: number | undefined;
  /** The last tick known to be enqueued, by this copy or another; 0 when none. */
  previousEnqueueAt: number;
  timer: NodeJS.Timeout | undefined;
  active: boolean;
}

type SchedulerState = 'new' | 'running' | 'stopping' | 'stopped';

const schedulerOptionKeys = [
  'broker',
  'timezone',
  'beforeEnqueue',
  'afterEnqueue',
  'logger',
  'codec',
  'heartbeatInterval',
  'duplicateWindow',
  'now',
  'interceptors',
] as const;
/** setTimeout's limit; longer waits are taken in steps. */
const maximumTimerDelay = 2 ** 31 - 1;
const historyPageSize = 20;
const missedTickCountLimit = 1000;

/** Enqueues tasks on cron schedules. Run as many copies as you like: each tick is enqueued once. */
export class Scheduler {
  readonly #broker: SchedulerBroker;
  readonly #client: Client;
  readonly #timezone: string;
  readonly #codec: PayloadCodec;
  readonly #logger: Logger;
  readonly #beforeEnqueue: SchedulerOptions['beforeEnqueue'];
  readonly #afterEnqueue: SchedulerOptions['afterEnqueue'];
  readonly #heartbeatInterval: number;
  readonly #entryTtl: number;
  readonly #duplicateWindow: number;
  /** Whole seconds, a second more than the window: Asynq stores retention and completion in seconds. */
  readonly #guardRetention: number;
  readonly #now: () => number;
  readonly #identity: SchedulerIdentity;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #state: SchedulerState = 'new';
  #startPromise: Promise<void> | undefined;
  #shutdownPromise: Promise<void> | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #publishQueued = false;
  #publishChain: Promise<void> = Promise.resolve();

  constructor(options: SchedulerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('new Scheduler(options): options must be an object such as { broker }.');
    }
    assertKnownKeys(options, schedulerOptionKeys, 'scheduler option');
    const broker = options.broker as Partial<SchedulerBroker> | undefined;
    const missing = (
      [
        'enqueue',
        'enqueueMany',
        'writeSchedulerEntries',
        'clearSchedulerEntries',
        'recordSchedulerEnqueue',
        'schedulerHistory',
      ] as const
    ).filter((method) => typeof broker?.[method] !== 'function');
    if (!broker || missing.length > 0) {
      throw new ValidationError(
        `new Scheduler({ broker }): ${broker ? `the broker lacks ${missing.join(', ')}` : 'broker is required'}; pass createRedisBroker({ url }).`,
        [{ path: 'broker', message: broker ? 'incomplete broker' : 'missing' }],
      );
    }
    this.#broker = broker as SchedulerBroker;
    this.#timezone = assertTimezone(options.timezone ?? 'UTC');
    this.#codec = options.codec ?? jsonCodec;
    this.#logger = options.logger ?? silentLogger;
    this.#beforeEnqueue = options.beforeEnqueue;
    this.#afterEnqueue = options.afterEnqueue;
    this.#now = options.now ?? Date.now;
    this.#heartbeatInterval = toMilliseconds(options.heartbeatInterval ?? '10s', 'heartbeatInterval');
    if (this.#heartbeatInterval < 1000) {
      throw new ValidationError('heartbeatInterval must be at least 1s.', [
        { path: 'heartbeatInterval', message: 'under one second' },
      ]);
    }
    // Go sends the TTL as whole seconds to EXPIRE; a fraction would make Asynq's own write fail.
    this.#entryTtl = Math.ceil((2 * this.#heartbeatInterval) / 1000) * 1000;
    this.#duplicateWindow = toMilliseconds(options.duplicateWindow ?? '1m', 'duplicateWindow');
    if (this.#duplicateWindow < 1000) {
      throw new ValidationError('duplicateWindow must be at least 1s.', [
        { path: 'duplicateWindow', message: 'under one second' },
      ]);
    }
    this.#guardRetention = (Math.ceil(this.#duplicateWindow / 1000) + 1) * 1000;
    this.#client = new Client({ broker: this.#broker, now: this.#now, interceptors: options.interceptors });
    this.#identity = { host: hostname(), pid: process.pid, schedulerId: randomUUID() };
  }

  /** This process's scheduler as published: host, pid and a random id. */
  get identity(): SchedulerIdentity {
    return { ...this.#identity };
  }

  /**
   * Adds an entry and returns its id. Takes effect at once when the scheduler is running. Throws a
   * `ValidationError` for an invalid spec, time zone, task or options, or an id already registered here.
   */
  register<Payload>(spec: string, task: ScheduledTask<Payload>, options?: EntryOptions): string {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      throw new ShutdownError('The scheduler is shut down; create a new Scheduler to register entries.');
    }
    const prepared = prepareEntry(spec, task, options, {
      timezone: this.#timezone,
      codec: this.#codec,
    });
    if (this.#entries.has(prepared.id)) {
      throw new ValidationError(
        `Entry "${prepared.id}" (${prepared.spec}, ${prepared.type}) is already registered with this scheduler; unregister it first, or give the second one a different id.`,
        [{ path: 'id', message: 'already registered' }],
      );
    }
    const entry: Entry = {
      ...prepared,
      handledUpTo: this.#now(),
      nextTickAt: undefined,
      previousEnqueueAt: 0,
      timer: undefined,
      active: false,
    };
    this.#entries.set(entry.id, entry);
    this.#logger.debug(
      { entryId: entry.id, spec: entry.spec, type: entry.type },
      'scheduler entry registered',
    );
    if (this.#state === 'running') {
      this.#track(this.#activate(entry));
      this.#publishSoon();
    }
    return entry.id;
  }

  /** Removes an entry; returns false when no entry has this id. An enqueue already under way finishes. */
  unregister(entryId: string): boolean {
    const entry = this.#entries.get(entryId);
    if (!entry) return false;
    this.#deactivate(entry);
    this.#entries.delete(entryId);
    this.#logger.debug({ entryId }, 'scheduler entry unregistered');
    this.#publishSoon();
    return true;
  }

  /**
   * Starts ticking: enqueues the latest missed tick of `'once'` entries, publishes the entries (rejecting
   * when the broker cannot be reached; the scheduler can then be started again) and keeps them published.
   */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(
        new ShutdownError('The scheduler is shut down; create a new Scheduler to start again.'),
      );
    }
    this.#startPromise ??= this.#start().catch((error: unknown) => {
      this.#startPromise = undefined;
      throw error;
    });
    return this.#startPromise;
  }

  /**
   * Stops ticking, waits for enqueues under way, and removes the published entries. The enqueue history
   * is kept. Safe to call more than once.
   */
  shutdown(): Promise<void> {
    this.#shutdownPromise ??= this.#shutdown();
    return this.#shutdownPromise;
  }

  async #start(): Promise<void> {
    this.#state = 'running';
    try {
      await Promise.all([...this.#entries.values()].map((entry) => this.#activate(entry)));
      await this.#enqueuePublish();
    } catch (error) {
      for (const entry of this.#entries.values()) this.#deactivate(entry);
      if (this.#state === 'running') this.#state = 'new';
      throw error;
    }
    this.#armHeartbeat();
    this.#logger.info(
      { schedulerId: this.#identity.schedulerId, entries: this.#entries.size, timezone: this.#timezone },
      'scheduler started',
    );
  }

  async #shutdown(): Promise<void> {
    await this.#startPromise?.catch(() => undefined);
    const wasRunning = this.#state === 'running';
    this.#state = 'stopping';
    clearTimeout(this.#heartbeatTimer);
    for (const entry of this.#entries.values()) this.#deactivate(entry);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    if (wasRunning) {
      try {
        await this.#broker.clearSchedulerEntries(this.#identity);
      } catch (error) {
        this.#logger.warn(
          { error: errorMessage(error) },
          'could not remove the published scheduler entries; they expire with their TTL',
        );
      }
    }
    this.#state = 'stopped';
    this.#logger.info({ schedulerId: this.#identity.schedulerId }, 'scheduler stopped');
  }

  /** Arms the entry's timer, and first deals with ticks missed before now. */
  async #activate(entry: Entry): Promise<void> {
    const activatedAt = this.#now();
    entry.active = true;
    entry.handledUpTo = activatedAt;
    this.#arm(entry);
    try {
      await this.#catchUp(entry, activatedAt);
    } catch (error) {
      this.#logger.warn(
        { entryId: entry.id, error: errorMessage(error) },
        'could not read the entry history to find missed ticks; none are enqueued',
      );
    }
  }

  #deactivate(entry: Entry): void {
    entry.active = false;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.nextTickAt = undefined;
  }

  #arm(entry: Entry): void {
    if (!entry.active || this.#state !== 'running') return;
    const next = entry.nextTickAt ?? entry.schedule.next(entry.handledUpTo);
    entry.nextTickAt = next;
    if (next === undefined) {
      this.#logger.info({ entryId: entry.id, spec: entry.spec }, 'the schedule has no further ticks');
      return;
    }
    const delay = Math.min(Math.max(next - this.#now(), 0), maximumTimerDelay);
    entry.timer = setTimeout(() => this.#wake(entry), delay);
  }

  #wake(entry: Entry): void {
    entry.timer = undefined;
    const due = entry.nextTickAt;
    if (!entry.active || due === undefined) return;
    const now = this.#now();
    // Timers can fire a little early, and long waits are taken in steps.
    if (now < due) return this.#arm(entry);
    let tick = due;
    const following = entry.schedule.next(due);
    if (following !== undefined && following <= now) {
      tick = Math.max(due, entry.schedule.previous(now) ?? due);
      this.#logger.warn(
        { entryId: entry.id, from: new Date(due).toISOString(), to: new Date(tick).toISOString() },
        'this process was stalled past several ticks; only the latest is considered',
      );
    }
    entry.handledUpTo = tick;
    entry.nextTickAt = undefined;
    this.#track(this.#fire(entry, tick, now));
    this.#arm(entry);
  }

  async #fire(entry: Entry, tick: number, now: number): Promise<void> {
    const late = now - tick > this.#duplicateWindow;
    if (late && entry.missedTicks === 'skip') {
      this.#logger.warn(
        { entryId: entry.id, tickAt: new Date(tick).toISOString(), lateByMs: now - tick },
        'a tick was noticed later than duplicateWindow and is skipped (missedTicks: skip)',
      );
      return;
    }
    await this.#enqueueTick(entry, tick, late);
  }

  /** Finds ticks that passed while no copy ran, from the entry's history, and applies its policy. */
  async #catchUp(entry: Entry, activatedAt: number): Promise<void> {
    const latest = entry.schedule.previous(activatedAt);
    if (latest === undefined) return;
    const history = await this.#broker.schedulerHistory(entry.id, { page: 1, pageSize: historyPageSize });
    // No history: the entry is new (or its history was deleted), so nothing counts as missed.
    if (history.length === 0) return;
    const lastEnqueuedAt = Math.max(...history.map((event) => event.enqueuedAt));
    entry.previousEnqueueAt = Math.max(entry.previousEnqueueAt, lastEnqueuedAt);
    if (isTickRecorded(history, entry.id, latest)) return;
    // A tick that has only just passed may be under way in another copy.
    if (activatedAt - latest <= this.#duplicateWindow && entry.missedTicks === 'skip') return;
    const missed = Math.max(1, countTicks(entry.schedule, lastEnqueuedAt, latest));
    const fields = {
      entryId: entry.id,
      spec: entry.spec,
      missedTicks: missed >= missedTickCountLimit ? `${missedTickCountLimit}+` : missed,
      lastEnqueuedAt: new Date(lastEnqueuedAt).toISOString(),
      latestTickAt: new Date(latest).toISOString(),
    };
    if (entry.missedTicks === 'skip') {
      this.#logger.info(fields, 'ticks passed while no scheduler ran; they are skipped (missedTicks: skip)');
      return;
    }
    this.#logger.info(
      fields,
      'ticks passed while no scheduler ran; the latest is enqueued once (missedTicks: once)',
    );
    await this.#enqueueTick(entry, latest, true);
  }

  /**
   * Enqueues the task of one tick unless another copy did. Two guards: the tick's task id, which the
   * broker refuses while the task exists (kept at least `duplicateWindow` after success), and the
   * entry's history, which the winning copy writes right after enqueueing and which outlives the task.
   * The history is read first; when it cannot be read, an on-time tick relies on the task id alone and
   * a late one (`catchUp`) is not enqueued.
   */
  async #enqueueTick(entry: Entry, tick: number, catchUp: boolean): Promise<void> {
    const taskId = tickTaskId(entry.id, tick);
    const event: TickEvent = {
      entryId: entry.id,
      spec: entry.spec,
      type: entry.type,
      payload: entry.payload,
      options: entry.options,
      tickAt: tick,
      taskId,
      catchUp,
    };
    const fields = { entryId: entry.id, taskId, type: entry.type };
    await this.#callHook('beforeEnqueue', () => this.#beforeEnqueue?.(event));
    const outcome = await this.#attempt(entry, tick, { taskId, catchUp, fields });
    if (outcome.status === 'enqueued' || outcome.status === 'enqueued-elsewhere') {
      entry.previousEnqueueAt = Math.max(entry.previousEnqueueAt, tick);
    }
    await this.#callHook('afterEnqueue', () => this.#afterEnqueue?.(event, outcome));
  }

  async #attempt(
    entry: Entry,
    tick: number,
    { taskId, catchUp, fields }: { taskId: string; catchUp: boolean; fields: Record<string, string> },
  ): Promise<TickOutcome> {
    try {
      const history = await this.#broker.schedulerHistory(entry.id, { page: 1, pageSize: historyPageSize });
      if (isTickRecorded(history, entry.id, tick)) {
        this.#logger.debug(fields, 'another copy of the scheduler enqueued this tick (found in its history)');
        return { status: 'enqueued-elsewhere', foundBy: 'history' };
      }
    } catch (error) {
      if (catchUp) {
        this.#logger.error(
          { ...fields, error: errorMessage(error) },
          'a late tick was not enqueued: its history could not be read to rule out a duplicate',
        );
        return { status: 'failed', error };
      }
      this.#logger.debug({ ...fields, error: errorMessage(error) }, 'could not read the entry history');
    }
    let info: TaskInfo;
    try {
      info = await this.#client.enqueue(entry.type, entry.payload, this.#taskOptions(entry, taskId));
    } catch (error) {
      if (error instanceof TaskIdConflictError) {
        this.#logger.debug(fields, 'another copy of the scheduler enqueued this tick (its task id is taken)');
        return { status: 'enqueued-elsewhere', foundBy: 'taskId' };
      }
      if (error instanceof DuplicateTaskError) {
        this.#logger.info(
          fields,
          "not enqueued: the task's unique lock is held (by this tick from another copy, or by an earlier tick)",
        );
        return { status: 'duplicate', error };
      }
      this.#logger.error({ ...fields, error: errorMessage(error) }, 'could not enqueue a scheduled task');
      return { status: 'failed', error };
    }
    this.#logger.debug(fields, 'scheduled task enqueued');
    try {
      await this.#broker.recordSchedulerEnqueue(entry.id, { taskId, enqueuedAt: this.#now() });
    } catch (error) {
      this.#logger.warn(
        { ...fields, error: errorMessage(error) },
        'the task was enqueued but its history event could not be written',
      );
    }
    return { status: 'enqueued', info };
  }

  #taskOptions(entry: Entry, taskId: string): TaskOptions {
    const { retention, ...options } = entry.options;
    return { ...options, taskId, retention: Math.max(retention ?? 0, this.#guardRetention) };
  }

  async #callHook(name: string, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.#logger.warn({ hook: name, error: errorMessage(error) }, `the ${name} hook threw; ignored`);
    }
  }

  #armHeartbeat(): void {
    if (this.#state !== 'running') return;
    this.#heartbeatTimer = setTimeout(() => {
      this.#track(
        this.#enqueuePublish()
          .catch((error: unknown) => {
            this.#logger.warn(
              { error: errorMessage(error) },
              'could not publish the scheduler entries; retrying at the next heartbeat',
            );
          })
          .finally(() => this.#armHeartbeat()),
      );
    }, this.#heartbeatInterval);
  }

  /** Publishes soon after a change, once for a burst of changes. */
  #publishSoon(): void {
    if (this.#publishQueued || this.#state !== 'running') return;
    this.#publishQueued = true;
    setImmediate(() => {
      this.#publishQueued = false;
      this.#track(
        this.#enqueuePublish().catch((error: unknown) => {
          this.#logger.warn({ error: errorMessage(error) }, 'could not publish the scheduler entries');
        }),
      );
    });
  }

  /** Publishes one write at a time, so that an older list never lands after a newer one. */
  #enqueuePublish(): Promise<void> {
    const write = this.#publishChain.then(() => this.#writeEntries());
    this.#publishChain = write.catch(() => undefined);
    return write;
  }

  async #writeEntries(): Promise<void> {
    if (this.#state !== 'running') return;
    const entries: SchedulerEntryState[] = [...this.#entries.values()].map((entry) => ({
      id: entry.id,
      spec: entry.spec,
      taskType: entry.type,
      payload: entry.payload,
      enqueueOptions: entry.optionStrings,
      nextEnqueueAt: entry.nextTickAt ?? 0,
      previousEnqueueAt: entry.previousEnqueueAt,
    }));
    await this.#broker.writeSchedulerEntries(this.#identity, entries, this.#entryTtl);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => {
      this.#logger.error({ error: errorMessage(error) }, 'unexpected scheduler error');
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }
}

/**
 * Whether the history holds the tick's own task id. Enqueue times are not compared with the tick: they
 * come from the clocks of whichever copies wrote them, and a catch-up is recorded after its tick.
 */
function isTickRecorded(history: readonly SchedulerEnqueueEvent[], entryId: string, tick: number): boolean {
  const taskId = tickTaskId(entryId, tick);
  return history.some((event) => event.taskId === taskId);
}

/** Ticks in (after, upTo], counted up to a limit. */
function countTicks(schedule: Schedule, after: number, upTo: number): number {
  let count = 0;
  for (let tick = schedule.next(after); tick !== undefined && tick <= upTo; tick = schedule.next(tick)) {
    if (++count >= missedTickCountLimit) break;
  }
  return count;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
