/**
 * Asynq's PeriodicTaskManager: keeps a scheduler's entries equal to what a function of yours returns
 * (from a database, a file, a feature flag service), re-reading it every `syncInterval` and applying only
 * the difference. A provider that throws or returns invalid entries changes nothing: the last good set
 * stays scheduled and the reason is logged.
 */
import {
  QError,
  ShutdownError,
  silentLogger,
  toMilliseconds,
  ValidationError,
  jsonCodec,
  type Duration,
  type Logger,
  type ValidationIssue,
} from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import { Scheduler, type SchedulerOptions } from './scheduler';
import { prepareEntry, type EntryOptions, type PreparedEntry, type ScheduledTask } from './scheduler-entry';
import { assertTimezone } from './schedule';

/** One entry as the provider returns it: a spec, the task, and the entry's own options. */
export interface PeriodicTaskConfig<Payload = unknown> extends ScheduledTask<Payload>, EntryOptions {
  spec: string;
}

/** Returns the entries that should be scheduled now. */
export type PeriodicTaskConfigProvider = () =>
  readonly PeriodicTaskConfig[] | Promise<readonly PeriodicTaskConfig[]>;

export interface PeriodicTaskManagerOptions extends SchedulerOptions {
  provider: PeriodicTaskConfigProvider;
  /** How often the provider is read. @default '3m' (Asynq's) */
  syncInterval?: Duration;
}

/** What one sync did. A failed sync changed nothing. */
export type SyncResult =
  { ok: true; added: string[]; removed: string[]; unchanged: number } | { ok: false; error: QError | Error };

const configKeys = ['spec', 'type', 'payload', 'options', 'id', 'missedTicks'] as const;

export class PeriodicTaskManager {
  readonly #scheduler: Scheduler;
  readonly #provider: PeriodicTaskConfigProvider;
  readonly #syncInterval: number;
  readonly #logger: Logger;
  readonly #prepareContext: Pick<Parameters<typeof prepareEntry>[3], 'timezone' | 'codec'>;
  /** Entry id to fingerprint, for the entries currently registered. */
  #current = new Map<string, string>();
  #syncChain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: PeriodicTaskManagerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError(
        'new PeriodicTaskManager(options): options must be an object such as { broker, provider }.',
      );
    }
    const { provider, syncInterval, ...schedulerOptions } = options;
    if (typeof provider !== 'function') {
      throw new ValidationError(
        'new PeriodicTaskManager({ provider }): provider must be a function returning the entries, e.g. () => [{ spec, type, payload, options }].',
        [{ path: 'provider', message: 'not a function' }],
      );
    }
    this.#syncInterval = toMilliseconds(syncInterval ?? '3m', 'syncInterval');
    if (this.#syncInterval < 100) {
      throw new ValidationError('syncInterval must be at least 100ms.', [
        { path: 'syncInterval', message: 'too short' },
      ]);
    }
    this.#scheduler = new Scheduler(schedulerOptions);
    this.#provider = provider;
    this.#logger = options.logger ?? silentLogger;
    this.#prepareContext = {
      timezone: assertTimezone(options.timezone ?? 'UTC'),
      codec: options.codec ?? jsonCodec,
    };
  }

  /** The scheduler this manager drives: host, pid and id as published. */
  get identity(): Scheduler['identity'] {
    return this.#scheduler.identity;
  }

  /**
   * Reads the provider, registers its entries and starts the scheduler, then syncs every `syncInterval`.
   * Rejects, with nothing started, when the first read fails or returns invalid entries.
   */
  async start(): Promise<void> {
    if (this.#state === 'stopped') {
      throw new ShutdownError('The periodic task manager is shut down; create a new one to start again.');
    }
    if (this.#state === 'running') return;
    const first = await this.sync();
    if (!first.ok) throw first.error;
    await this.#scheduler.start();
    this.#state = 'running';
    this.#armSync();
  }

  /** Stops syncing and shuts the scheduler down. */
  async shutdown(): Promise<void> {
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    await this.#syncChain.catch(() => undefined);
    await this.#scheduler.shutdown();
  }

  /**
   * Reads the provider now and applies the difference: registers new entries, unregisters removed ones,
   * re-registers changed ones, leaves the rest alone. Never throws; a failure is returned and logged, and
   * leaves the last good set in place. Syncs run one at a time.
   */
  sync(): Promise<SyncResult> {
    const result = this.#syncChain.then(() => this.#sync());
    this.#syncChain = result.catch(() => undefined);
    return result;
  }

  async #sync(): Promise<SyncResult> {
    if (this.#state === 'stopped') {
      return { ok: false, error: new ShutdownError('The periodic task manager is shut down.') };
    }
    let next: Map<string, { config: PeriodicTaskConfig; prepared: PreparedEntry }>;
    try {
      const configs = await this.#provider();
      next = this.#validate(configs);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      this.#logger.warn(
        { error: reason.message, keptEntries: this.#current.size },
        QError.is(reason)
          ? 'the periodic task provider returned invalid entries; the last good set stays scheduled'
          : 'the periodic task provider failed; the last good set stays scheduled',
      );
      return { ok: false, error: reason };
    }

    const removed: string[] = [];
    for (const [id, fingerprint] of this.#current) {
      if (next.get(id)?.prepared.fingerprint !== fingerprint) {
        this.#scheduler.unregister(id);
        this.#current.delete(id);
        removed.push(id);
      }
    }
    const added: string[] = [];
    for (const [id, { config, prepared }] of next) {
      if (this.#current.has(id)) continue;
      const task = { type: config.type, payload: config.payload, options: config.options };
      this.#scheduler.register(config.spec, task, { id, missedTicks: prepared.missedTicks });
      this.#current.set(id, prepared.fingerprint);
      added.push(id);
    }
    const unchanged = this.#current.size - added.length;
    if (added.length > 0 || removed.length > 0) {
      this.#logger.info({ added, removed, unchanged }, 'periodic tasks synced');
    }
    return { ok: true, added, removed, unchanged };
  }

  /** Every entry must be valid and ids unique, or the whole set is refused. */
  #validate(configs: unknown): Map<string, { config: PeriodicTaskConfig; prepared: PreparedEntry }> {
    if (!Array.isArray(configs)) {
      throw new ValidationError(
        `The periodic task provider must return an array of { spec, type, payload, options }, got ${configs === null ? 'null' : typeof configs}.`,
      );
    }
    const entries = new Map<string, { config: PeriodicTaskConfig; prepared: PreparedEntry; index: number }>();
    const problems: string[] = [];
    const issues: ValidationIssue[] = [];
    (configs as unknown[]).forEach((value, index) => {
      const path = `entries[${index}]`;
      try {
        if (typeof value !== 'object' || value === null) {
          throw new ValidationError(`${path} must be an object such as { spec, type, payload, options }.`, [
            { path, message: 'not an object' },
          ]);
        }
        const config = value as PeriodicTaskConfig;
        assertKnownKeys(config, configKeys, `${path} key`);
        const prepared = prepareEntry(
          config.spec,
          { type: config.type, payload: config.payload, options: config.options },
          { id: config.id, missedTicks: config.missedTicks },
          { ...this.#prepareContext, path },
        );
        const earlier = entries.get(prepared.id);
        if (earlier) {
          throw new ValidationError(
            `${path} has the same id "${prepared.id}" as entries[${earlier.index}]; give one of them a different id, or remove the duplicate.`,
            [{ path: `${path}.id`, message: 'duplicate id' }],
          );
        }
        entries.set(prepared.id, { config, prepared, index });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        problems.push(message.startsWith(path) ? message : `${path}: ${message}`);
        if (error instanceof ValidationError) issues.push(...error.issues);
        else issues.push({ path, message: String(error) });
      }
    });
    if (problems.length > 0) {
      throw new ValidationError(
        `${problems.length} of ${configs.length} periodic task entries are invalid: ${problems.join(' | ')}`,
        issues,
      );
    }
    return entries;
  }

  #armSync(): void {
    if (this.#state !== 'running') return;
    this.#timer = setTimeout(() => {
      void this.sync().finally(() => this.#armSync());
    }, this.#syncInterval);
  }
}
