import { randomUUID } from 'node:crypto';
import {
  assertKnownKeys,
  assertQueueName,
  assertTaskType,
  isTaskDefinition,
  jsonCodec,
  PayloadEncodingError,
  QError,
  taskDefaults,
  taskOptionKeys,
  toMilliseconds,
  toTaskInfo,
  validatePayload,
  ValidationError,
  type EnqueueRequest,
  type PayloadCodec,
  type TaskDefinition,
  type TaskInfo,
  type TaskMessage,
  type TaskOptions,
  type TaskProducer,
} from '@q/core';

export interface ClientOptions {
  /** Where tasks go: any broker that can produce, e.g. `createRedisBroker(...)`. */
  broker: TaskProducer;
  /** Turns payload values into bytes. @default jsonCodec (JSON as UTF-8; `Uint8Array` stored as is) */
  codec?: PayloadCodec;
  /** Encoded payloads larger than this are refused before they reach the broker. @default 1 MiB (1_048_576) */
  maxPayloadBytes?: number;
  /** Makes task ids when no `taskId` is given. @default crypto.randomUUID */
  generateId?: () => string;
  /** The clock, in Unix milliseconds; for tests. @default Date.now */
  now?: () => number;
}

/** One task of an `enqueueMany` batch. */
export interface TaskToEnqueue<Payload = unknown> {
  type: string | TaskDefinition<Payload, unknown>;
  payload?: Payload;
  options?: TaskOptions;
}

export type EnqueueOutcome = { ok: true; info: TaskInfo } | { ok: false; error: QError };

export interface EnqueueManyOptions {
  /**
   * All or nothing: if any task is invalid or refused, none is written and every outcome is an error.
   * Every task must go to the same queue (one queue lives in one Redis Cluster slot).
   * @default false
   */
  atomic?: boolean;
}

const clientOptionKeys = ['broker', 'codec', 'maxPayloadBytes', 'generateId', 'now'] as const;
const defaultMaxPayloadBytes = 1024 * 1024;
const uniqueMinimumMilliseconds = 1000;

/** Enqueues tasks. Concurrent calls are not serialised: they share the broker's pipeline. */
export class Client {
  readonly #broker: TaskProducer;
  readonly #codec: PayloadCodec;
  readonly #maxPayloadBytes: number;
  readonly #generateId: () => string;
  readonly #now: () => number;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('new Client(options): options must be an object such as { broker }.');
    }
    assertKnownKeys(options, clientOptionKeys, 'client option');
    const broker = options.broker as TaskProducer | undefined;
    if (!broker || typeof broker.enqueue !== 'function' || typeof broker.enqueueMany !== 'function') {
      throw new ValidationError(
        'new Client({ broker }): broker is required; pass createRedisBroker({ url }).',
        [{ path: 'broker', message: 'missing' }],
      );
    }
    const maxPayloadBytes = options.maxPayloadBytes ?? defaultMaxPayloadBytes;
    if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes <= 0) {
      throw new ValidationError(
        `maxPayloadBytes must be a positive integer, got ${String(maxPayloadBytes)}.`,
        [{ path: 'maxPayloadBytes', message: 'not a positive integer' }],
      );
    }
    this.#broker = broker;
    this.#codec = options.codec ?? jsonCodec;
    this.#maxPayloadBytes = maxPayloadBytes;
    this.#generateId = options.generateId ?? randomUUID;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Enqueues one task and returns what was stored. Invalid input throws a `ValidationError` (or
   * `PayloadEncodingError`) before anything reaches the broker; a refused task throws
   * `DuplicateTaskError` or `TaskIdConflictError`; broker failures throw, never drop the task silently.
   */
  async enqueue<Input>(
    definition: TaskDefinition<Input, unknown>,
    payload: Input,
    options?: TaskOptions,
  ): Promise<TaskInfo>;
  async enqueue(type: string, payload?: unknown, options?: TaskOptions): Promise<TaskInfo>;
  async enqueue(
    typeOrDefinition: string | TaskDefinition<unknown, unknown>,
    payload?: unknown,
    options?: TaskOptions,
  ): Promise<TaskInfo> {
    const request = await this.#prepare({ type: typeOrDefinition, payload, options }, 'options');
    const result = await this.#broker.enqueue(request);
    return toTaskInfo(result);
  }

  /**
   * Enqueues many tasks in one round trip. Returns one outcome per task, in order; a task that is
   * invalid or refused does not stop the others unless `atomic` is set.
   */
  async enqueueMany(
    tasks: readonly TaskToEnqueue[],
    options: EnqueueManyOptions = {},
  ): Promise<EnqueueOutcome[]> {
    if (!isArray(tasks)) {
      throw new ValidationError('enqueueMany(tasks): tasks must be an array of { type, payload, options }.');
    }
    assertKnownKeys(options, ['atomic'], 'enqueueMany option');
    const atomic = options.atomic ?? false;
    const prepared = await Promise.all(
      tasks.map((task, index) =>
        this.#prepare(task, `tasks[${index}].options`).then(
          (request) => ({ ok: true as const, request }),
          (error: unknown) => ({ ok: false as const, error: asQError(error) }),
        ),
      ),
    );
    if (atomic) {
      const firstError = prepared.find((item) => !item.ok);
      if (firstError && !firstError.ok) {
        return prepared.map((item) =>
          item.ok
            ? { ok: false, error: batchAbortedError(firstError.error) }
            : { ok: false, error: item.error },
        );
      }
      const queues = new Set(prepared.map((item) => (item.ok ? item.request.message.queue : '')));
      if (queues.size > 1) {
        throw new ValidationError(
          `enqueueMany with atomic: true needs every task in one queue, got ${[...queues].map((queue) => `"${queue}"`).join(', ')}; split the batch by queue.`,
        );
      }
    }
    const requests = prepared.flatMap((item) => (item.ok ? [item.request] : []));
    const results = requests.length > 0 ? await this.#broker.enqueueMany(requests, { atomic }) : [];
    let next = 0;
    return prepared.map((item): EnqueueOutcome => {
      if (!item.ok) return { ok: false, error: item.error };
      const result = results[next++];
      if (!result)
        return { ok: false, error: new QError('Q_BROKER', 'The broker returned no result for this task.') };
      return result.ok ? { ok: true, info: toTaskInfo(result.result) } : { ok: false, error: result.error };
    });
  }

  async #prepare(task: TaskToEnqueue, optionsPath: string): Promise<EnqueueRequest> {
    const definition = isTaskDefinition(task.type) ? task.type : undefined;
    const type = assertTaskType(definition ? definition.type : task.type);
    const given = task.options ?? {};
    if (typeof given !== 'object' || given === null) {
      throw new ValidationError(`${optionsPath} must be an object.`, [
        { path: optionsPath, message: 'not an object' },
      ]);
    }
    assertKnownKeys(given, taskOptionKeys, optionsPath.replace(/options$/, 'option'));
    const options: TaskOptions = { ...definition?.defaults, ...given };
    const payloadValue = definition ? await validatePayload(definition, task.payload) : task.payload;
    const payload = this.#encode(payloadValue, type);
    return buildRequest({
      type,
      payload,
      options,
      optionsPath,
      now: this.#now(),
      generateId: this.#generateId,
    });
  }

  #encode(value: unknown, type: string): Uint8Array {
    const bytes = this.#codec.encode(value);
    if (!(bytes instanceof Uint8Array)) {
      throw new PayloadEncodingError(
        `The codec returned ${typeof bytes} for a "${type}" payload; a codec must return a Uint8Array.`,
      );
    }
    if (bytes.byteLength > this.#maxPayloadBytes) {
      throw new ValidationError(
        `The "${type}" payload is ${bytes.byteLength} bytes, over the limit of ${this.#maxPayloadBytes}; store large data elsewhere and enqueue a reference, or raise maxPayloadBytes.`,
        [{ path: 'payload', message: 'too large' }],
      );
    }
    return bytes;
  }
}

interface BuildRequestInput {
  type: string;
  payload: Uint8Array;
  options: TaskOptions;
  optionsPath: string;
  now: number;
  generateId: () => string;
}

/** Applies Asynq's defaults and precedence rules to the options and builds what the broker stores. */
function buildRequest({
  type,
  payload,
  options,
  optionsPath,
  now,
  generateId,
}: BuildRequestInput): EnqueueRequest {
  const path = (name: string): string => `${optionsPath}.${name}`;
  const queue = assertQueueName(options.queue ?? taskDefaults.queue, path('queue'));

  const maxRetry = options.maxRetry ?? taskDefaults.maxRetry;
  if (!Number.isSafeInteger(maxRetry) || maxRetry < 0) {
    throw new ValidationError(
      `${path('maxRetry')} must be a non-negative integer, got ${String(maxRetry)}.`,
      [{ path: path('maxRetry'), message: 'not a non-negative integer' }],
    );
  }

  let id: string;
  if (options.taskId === undefined) {
    id = generateId();
  } else if (typeof options.taskId !== 'string' || options.taskId.trim() === '') {
    throw new ValidationError(
      `${path('taskId')} must be a non-empty string; omit it to get a generated id.`,
      [{ path: path('taskId'), message: 'blank task id' }],
    );
  } else {
    id = options.taskId;
  }

  const timeout =
    options.timeout === undefined ? undefined : toMilliseconds(options.timeout, path('timeout'));
  const deadline = options.deadline === undefined ? undefined : toTime(options.deadline, path('deadline'));
  if (deadline !== undefined && deadline <= now) {
    throw new ValidationError(
      `${path('deadline')} ${new Date(deadline).toISOString()} is in the past; give a future time or use timeout instead.`,
      [{ path: path('deadline'), message: 'in the past' }],
    );
  }
  // Asynq: with neither timeout nor deadline, a 30-minute timeout; with only a deadline, no timeout.
  const timeoutSeconds =
    timeout === undefined && deadline === undefined
      ? taskDefaults.timeoutMilliseconds / 1000
      : Math.trunc((timeout ?? 0) / 1000);
  if (timeout !== undefined && timeout > 0 && timeoutSeconds === 0) {
    throw new ValidationError(
      `${path('timeout')} is under one second; timeouts are whole seconds on the wire.`,
      [{ path: path('timeout'), message: 'under one second' }],
    );
  }

  if (options.processAt !== undefined && options.processIn !== undefined) {
    throw new ValidationError(`Give ${path('processAt')} or ${path('processIn')}, not both.`, [
      { path: path('processIn'), message: 'conflicts with processAt' },
    ]);
  }
  const processAt =
    options.processAt !== undefined
      ? toTime(options.processAt, path('processAt'))
      : options.processIn !== undefined
        ? now + toMilliseconds(options.processIn, path('processIn'))
        : undefined;

  let uniqueTtl: number | undefined;
  if (options.unique !== undefined) {
    uniqueTtl = toMilliseconds(options.unique, path('unique'));
    if (uniqueTtl < uniqueMinimumMilliseconds) {
      throw new ValidationError(`${path('unique')} must be at least 1s; it is the lock's lifetime.`, [
        { path: path('unique'), message: 'under one second' },
      ]);
    }
  }

  const retention =
    options.retention === undefined ? 0 : toMilliseconds(options.retention, path('retention'));

  let group = '';
  if (options.group !== undefined) {
    if (typeof options.group !== 'string' || options.group.trim() === '') {
      throw new ValidationError(`${path('group')} must be a non-empty string; omit it for no aggregation.`, [
        { path: path('group'), message: 'blank group' },
      ]);
    }
    group = options.group;
  }

  const headers: Record<string, string> = {};
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) {
      throw new ValidationError(`${path('headers')} must be an object of strings.`, [
        { path: path('headers'), message: 'not an object' },
      ]);
    }
    for (const [key, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') {
        throw new ValidationError(`${path('headers')}.${key} must be a string, got ${typeof value}.`, [
          { path: `${path('headers')}.${key}`, message: 'not a string' },
        ]);
      }
      headers[key] = value;
    }
  }

  const message: TaskMessage = {
    id,
    type,
    payload,
    queue,
    maxRetry,
    retried: 0,
    errorMessage: '',
    timeoutSeconds,
    deadlineUnixSeconds: deadline === undefined ? 0 : Math.trunc(deadline / 1000),
    uniqueKey: '',
    lastFailedAtUnixSeconds: 0,
    retentionSeconds: Math.trunc(retention / 1000),
    completedAtUnixSeconds: 0,
    groupKey: group,
    headers,
  };
  const request: EnqueueRequest = { message };
  if (processAt !== undefined && processAt > now) request.processAt = processAt;
  if (uniqueTtl !== undefined) request.uniqueTtl = uniqueTtl;
  return request;
}

function isArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

function toTime(value: Date | number, path: string): number {
  const time = value instanceof Date ? value.getTime() : value;
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new ValidationError(`${path} must be a Date or Unix milliseconds, got ${String(value)}.`, [
      { path, message: 'not a time' },
    ]);
  }
  return time;
}

function asQError(error: unknown): QError {
  if (QError.is(error)) return error;
  return new QError('Q_VALIDATION', error instanceof Error ? error.message : String(error), { cause: error });
}

function batchAbortedError(cause: QError): QError {
  return new ValidationError(
    `Not enqueued: another task in the atomic batch was rejected (${cause.message}).`,
    [],
    {
      cause,
    },
  );
}
