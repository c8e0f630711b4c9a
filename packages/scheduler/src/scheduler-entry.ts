/**
 * What `register` checks and computes before an entry is scheduled: the parsed spec, the payload bytes,
 * the options in milliseconds, Asynq's option strings, and an id that every process derives the same way
 * from the same entry, so that copies of a scheduler agree on it without talking to each other.
 */
import { createHash } from 'node:crypto';
import {
  toMilliseconds,
  ValidationError,
  type PayloadCodec,
  type TaskDefinition,
  type TaskOptions,
} from '@q/core';
import {
  assertKnownKeys,
  assertQueueName,
  assertTaskType,
  isTaskDefinition,
  taskOptionKeys,
  toWholeSecondsUp,
} from '@q/core/internal';
import { toAsynqOptionStrings, type NormalizedTaskOptions } from './asynq-option-strings';
import { parseSchedule, type Schedule } from './schedule';

/** Options of a task enqueued on every tick: `TaskOptions` without the ones that name one instant or one task. */
export type ScheduledTaskOptions = Omit<TaskOptions, 'taskId' | 'processAt' | 'deadline'>;

/** The task an entry enqueues on every tick. */
export interface ScheduledTask<Payload = unknown> {
  /** A task type such as `'report:daily'`, or a `defineTask` definition (its payload is validated once, here). */
  type: string | TaskDefinition<Payload, unknown>;
  payload?: Payload;
  options?: ScheduledTaskOptions;
}

/**
 * What to do, when a scheduler starts, about ticks that passed while no copy of it ran (read from the
 * entry's enqueue history): `'skip'` them, or enqueue the latest of them `'once'`. Also applies to a tick
 * a process noticed too late (it was stalled for longer than `duplicateWindow`).
 */
export type MissedTickPolicy = 'skip' | 'once';

export interface EntryOptions {
  /**
   * The entry's id, shown by Asynq's CLI and web UI and used for its enqueue history. Give the same id in
   * every copy of the scheduler.
   * @default a UUID-shaped hash of the spec, time zone, task type, payload and options
   */
  id?: string;
  /** @default 'skip' */
  missedTicks?: MissedTickPolicy;
}

/** An entry after validation. */
export interface PreparedEntry {
  id: string;
  /** Equal for two registrations that would enqueue the same tasks at the same ticks in the same way. */
  fingerprint: string;
  spec: string;
  schedule: Schedule;
  type: string;
  payload: Uint8Array;
  options: NormalizedTaskOptions;
  /** Asynq's option strings, as published. */
  optionStrings: string[];
  missedTicks: MissedTickPolicy;
}

export interface PrepareEntryContext {
  /** The scheduler's time zone, for specs without `CRON_TZ=`. */
  timezone: string;
  codec: PayloadCodec;
  /** Where the entry came from, for error messages, e.g. `entries[2]`. @default 'entry' */
  path?: string;
}

const scheduledOptionKeys = taskOptionKeys.filter(
  (key) => key !== 'taskId' && key !== 'processAt' && key !== 'deadline',
);
const entryOptionKeys = ['id', 'missedTicks'] as const;
const maximumPayloadBytes = 1024 * 1024;
const maximumIdLength = 256;

/** Validates an entry and computes what scheduling it needs. Throws a `ValidationError` that says what to change. */
export function prepareEntry(
  spec: string,
  task: ScheduledTask,
  entryOptions: EntryOptions | undefined,
  context: PrepareEntryContext,
): PreparedEntry {
  const path = context.path ?? 'entry';
  const schedule = parseSchedule(spec, context.timezone);
  if (typeof task !== 'object' || task === null) {
    throw new ValidationError(`${path}: the task must be an object such as { type, payload, options }.`, [
      { path: `${path}.task`, message: 'not an object' },
    ]);
  }
  const definition = isTaskDefinition(task.type) ? task.type : undefined;
  const type = assertTaskType(definition ? definition.type : task.type, `${path}.type`);
  const options = normalizeOptions({ ...definition?.defaults, ...task.options }, `${path}.options`);
  const payload = encodePayload(definition, task.payload, { codec: context.codec, path, type });

  const given = entryOptions ?? {};
  assertKnownKeys(given, entryOptionKeys, `${path} option`);
  const missedTicks = given.missedTicks ?? 'skip';
  if (missedTicks !== 'skip' && missedTicks !== 'once') {
    throw new ValidationError(
      `${path}.missedTicks must be 'skip' or 'once', got ${JSON.stringify(missedTicks)}.`,
      [{ path: `${path}.missedTicks`, message: 'unknown policy' }],
    );
  }

  const hash = createHash('sha256')
    .update(
      JSON.stringify([
        '@q/scheduler entry 1',
        schedule.spec.trim(),
        schedule.timezone ?? '',
        type,
        Buffer.from(payload).toString('base64'),
        canonicalOptions(options),
      ]),
    )
    .digest('hex');
  const id = given.id === undefined ? uuidShaped(hash) : assertEntryId(given.id, `${path}.id`);
  return {
    id,
    fingerprint: `${hash}/${missedTicks}`,
    spec: schedule.spec.trim(),
    schedule,
    type,
    payload,
    options,
    optionStrings: toAsynqOptionStrings(options),
    missedTicks,
  };
}

/**
 * The id of the task an entry enqueues for the tick at `tickAt`: the same in every copy of the scheduler,
 * so the broker lets only one copy enqueue it. Readable: `<entry id>@2026-03-29T01:00:00Z`.
 */
export function tickTaskId(entryId: string, tickAt: number): string {
  return `${entryId}@${new Date(tickAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}

function normalizeOptions(
  options: ScheduledTaskOptions & Partial<TaskOptions>,
  path: string,
): NormalizedTaskOptions {
  const at = (name: string): string => `${path}.${name}`;
  for (const [name, advice] of [
    [
      'taskId',
      'each tick gets its own id, derived from the entry id and the tick time so that copies of the scheduler agree on it; to name the entry, use register(spec, task, { id })',
    ],
    ['processAt', 'a fixed time cannot apply to every tick; use processIn'],
    ['deadline', 'a fixed time cannot apply to every tick; use timeout'],
  ] as const) {
    if (options[name] !== undefined) {
      throw new ValidationError(`${at(name)} is not accepted for a scheduled task: ${advice}.`, [
        { path: at(name), message: 'not accepted for scheduled tasks' },
      ]);
    }
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  assertKnownKeys(given, scheduledOptionKeys, path.replace(/options$/, 'option'));

  const normalized: NormalizedTaskOptions = {};
  if (options.queue !== undefined) normalized.queue = assertQueueName(options.queue, at('queue'));
  if (options.maxRetry !== undefined) {
    if (!Number.isSafeInteger(options.maxRetry) || options.maxRetry < 0) {
      throw new ValidationError(
        `${at('maxRetry')} must be a non-negative integer, got ${String(options.maxRetry)}.`,
        [{ path: at('maxRetry'), message: 'not a non-negative integer' }],
      );
    }
    normalized.maxRetry = options.maxRetry;
  }
  // Whole seconds on the wire, rounded up as the client rounds them, so that the option strings show
  // what is stored: '1500ms' is Timeout(2s).
  if (options.timeout !== undefined) {
    normalized.timeout = toWholeSecondsUp(toMilliseconds(options.timeout, at('timeout'))) * 1000;
  }
  if (options.processIn !== undefined)
    normalized.processIn = toMilliseconds(options.processIn, at('processIn'));
  if (options.unique !== undefined) {
    const unique = toMilliseconds(options.unique, at('unique'));
    if (unique < 1000) {
      throw new ValidationError(`${at('unique')} must be at least 1s; it is the lock's lifetime.`, [
        { path: at('unique'), message: 'under one second' },
      ]);
    }
    normalized.unique = unique;
  }
  if (options.retention !== undefined)
    normalized.retention = toWholeSecondsUp(toMilliseconds(options.retention, at('retention'))) * 1000;
  if (options.group !== undefined) {
    if (typeof options.group !== 'string' || options.group.trim() === '') {
      throw new ValidationError(`${at('group')} must be a non-empty string; omit it for no aggregation.`, [
        { path: at('group'), message: 'blank group' },
      ]);
    }
    normalized.group = options.group;
  }
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) {
      throw new ValidationError(`${at('headers')} must be an object of strings.`, [
        { path: at('headers'), message: 'not an object' },
      ]);
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') {
        throw new ValidationError(`${at('headers')}.${key} must be a string, got ${typeof value}.`, [
          { path: `${at('headers')}.${key}`, message: 'not a string' },
        ]);
      }
      headers[key] = value;
    }
    normalized.headers = headers;
  }
  return normalized;
}

interface EncodeContext {
  codec: PayloadCodec;
  path: string;
  type: string;
}

/** Validates (synchronously: once, at registration) and encodes the payload every tick will carry. */
function encodePayload(
  definition: TaskDefinition | undefined,
  value: unknown,
  { codec, path, type }: EncodeContext,
): Uint8Array {
  let validated = value;
  if (definition?.schema) {
    const result = definition.schema['~standard'].validate(value);
    if (result instanceof Promise) {
      result.then(
        () => undefined,
        () => undefined,
      );
      throw new ValidationError(
        `${path}: the schema of task "${type}" validates asynchronously; a scheduled payload is validated once, when the entry is registered, which needs a synchronous schema. Validate it yourself and register the task by its type name.`,
        [{ path: `${path}.payload`, message: 'asynchronous schema' }],
      );
    }
    if (result.issues) {
      const issues = result.issues.map((issue) => {
        const where = (issue.path ?? [])
          .map((segment) => (typeof segment === 'object' ? String(segment.key) : String(segment)))
          .join('.');
        return { path: where ? `${path}.payload.${where}` : `${path}.payload`, message: issue.message };
      });
      throw new ValidationError(
        `Payload for scheduled task "${type}" is invalid: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}.`,
        issues,
      );
    }
    validated = result.value;
  }
  const bytes = codec.encode(validated);
  if (!(bytes instanceof Uint8Array)) {
    throw new ValidationError(
      `${path}: the codec returned ${typeof bytes} for a "${type}" payload; a codec must return a Uint8Array.`,
    );
  }
  if (bytes.byteLength > maximumPayloadBytes) {
    throw new ValidationError(
      `${path}: the "${type}" payload is ${bytes.byteLength} bytes, over the limit of ${maximumPayloadBytes}; store large data elsewhere and schedule a reference.`,
      [{ path: `${path}.payload`, message: 'too large' }],
    );
  }
  return bytes;
}

function canonicalOptions(options: NormalizedTaskOptions): unknown[] {
  return [
    options.queue ?? null,
    options.maxRetry ?? null,
    options.timeout ?? null,
    options.processIn ?? null,
    options.unique ?? null,
    options.retention ?? null,
    options.group ?? null,
    options.headers
      ? Object.entries(options.headers).sort(([left], [right]) => (left < right ? -1 : 1))
      : null,
  ];
}

/** A hash written as an RFC 9562 version 8 (custom) UUID, so UIs that expect Asynq's UUID entry ids show it well. */
function uuidShaped(hash: string): string {
  const hex = hash.slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

function assertEntryId(id: unknown, path: string): string {
  if (typeof id !== 'string' || id.trim() === '' || /[\s\p{C}]/u.test(id) || id.length > maximumIdLength) {
    throw new ValidationError(
      `${path} must be a non-empty string of at most ${maximumIdLength} characters without spaces or control characters, got ${JSON.stringify(id)}.`,
      [{ path, message: 'not a usable entry id' }],
    );
  }
  return id;
}
