import { randomUUID } from 'node:crypto';
import {
  assertKnownKeys,
  assertQueueName,
  assertTaskType,
  isTaskDefinition,
  taskDefaults,
  taskOptionKeys,
  toTaskInfo,
  toWholeSecondsUp,
  validatePayload,
} from '@q/core/internal';
import {
  assertFlowKey,
  BatchAbortedError,
  flowKeyHeader,
  jsonCodec,
  PayloadEncodingError,
  QError,
  toMilliseconds,
  ValidationError,
  type EnqueueRequest,
  type PayloadCodec,
  type TaskDefinition,
  type TaskInfo,
  type TaskMessage,
  type TaskOptions,
  type TaskProducer,
  type ValidationIssue,
} from '@q/core';
import {
  intercept,
  interceptorChains,
  outgoingTask,
  type EnqueueInterceptor,
  type InterceptorChains,
} from './enqueue-interceptor';

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
  /**
   * Run around every write, after validation and before the broker, the first outermost: to add
   * headers, trace or time enqueues (`@q/otel` provides one). @default []
   */
  interceptors?: readonly EnqueueInterceptor[];
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
   * The first task that is invalid or refused keeps its own error (`ValidationError`,
   * `DuplicateTaskError`, `TaskIdConflictError`); every other task gets a `BatchAbortedError`
   * (`Q_BATCH_ABORTED`) whose `index` and message name that task as `tasks[N]`, its index in the array
   * you passed. Every task must go to the same queue (one queue lives in one Redis Cluster slot).
   * @default false
   */
  atomic?: boolean;
}

const clientOptionKeys = ['broker', 'codec', 'maxPayloadBytes', 'generateId', 'now', 'interceptors'] as const;
const defaultMaxPayloadBytes = 1024 * 1024;
const uniqueMinimumMilliseconds = 1000;

/** Enqueues tasks. Concurrent calls are not serialised: they share the broker's pipeline. */
export class Client {
  readonly #broker: TaskProducer;
  readonly #codec: PayloadCodec;
  readonly #maxPayloadBytes: number;
  readonly #generateId: () => string;
  readonly #now: () => number;
  readonly #interceptors: InterceptorChains;

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
    this.#interceptors = interceptorChains(options.interceptors);
  }

  /**
   * Enqueues one task and returns what was stored. Invalid input throws a `ValidationError` (or
   * `PayloadEncodingError`) before anything reaches the broker; its message names every invalid option
   * and its `issues` hold one entry per problem, each at its path (`options.timeout`). A refused task
   * throws `DuplicateTaskError` or `TaskIdConflictError`; broker failures throw, never drop the task
   * silently.
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
    const steps = this.#interceptors.enqueue;
    if (steps.length === 0) return toTaskInfo(await this.#broker.enqueue(request));
    return intercept(steps, outgoingTask(request), async () =>
      toTaskInfo(await this.#broker.enqueue(request)),
    );
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
      const firstInvalid = prepared.findIndex((item) => !item.ok);
      const firstError = prepared[firstInvalid];
      if (firstError && !firstError.ok) {
        return prepared.map((item) =>
          item.ok
            ? { ok: false, error: new BatchAbortedError(firstInvalid, 'tasks', { cause: firstError.error }) }
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
    const steps = this.#interceptors.enqueueMany;
    const written =
      requests.length === 0
        ? []
        : steps.length === 0
          ? await this.#write(requests, atomic)
          : await intercept(steps, requests.map(outgoingTask), () => this.#write(requests, atomic));
    let next = 0;
    return prepared.map((item): EnqueueOutcome => {
      if (!item.ok) return { ok: false, error: item.error };
      return (
        written[next++] ?? {
          ok: false,
          error: new QError('Q_BROKER', 'The broker returned no result for this task.'),
        }
      );
    });
  }

  /** Writes valid requests in one round trip: one outcome per request, in order. */
  async #write(requests: EnqueueRequest[], atomic: boolean): Promise<EnqueueOutcome[]> {
    const results = await this.#broker.enqueueMany(requests, { atomic });
    return requests.map((_, index): EnqueueOutcome => {
      const result = results[index];
      if (!result)
        return { ok: false, error: new QError('Q_BROKER', 'The broker returned no result for this task.') };
      if (result.ok) return { ok: true, info: toTaskInfo(result.result) };
      // Atomic batches reach the broker only when every task is valid, so its `requests[N]` is `tasks[N]`.
      if (result.error instanceof BatchAbortedError) {
        return {
          ok: false,
          error: new BatchAbortedError(result.error.index, 'tasks', { cause: result.error.cause }),
        };
      }
      return { ok: false, error: result.error };
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

/** Every problem found in one task's options, thrown together as one `ValidationError`. */
class OptionProblems {
  readonly #sentences: string[] = [];
  readonly #issues: ValidationIssue[] = [];

  constructor(readonly optionsPath: string) {}

  add(sentence: string, issues: readonly ValidationIssue[]): void {
    this.#sentences.push(sentence);
    this.#issues.push(...issues);
  }

  /** The path of option `name`, e.g. `options.queue`. */
  path(name: string): string {
    return `${this.optionsPath}.${name}`;
  }

  /** Records that option `name` is refused; returns `undefined` (the value the option then has). */
  refuse(name: string, sentence: string, issue: string): undefined {
    this.add(sentence, [{ path: this.path(name), message: issue }]);
    return undefined;
  }

  /** Runs a check that throws a `ValidationError`; records its problem and returns `undefined` instead. */
  check<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      this.add(error.message, error.issues);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.#sentences.length === 0) return;
    const message =
      this.#sentences.length === 1
        ? this.#sentences[0]!
        : `${this.#sentences.length} problems in ${this.optionsPath}: ${this.#sentences.join(' ')}`;
    throw new ValidationError(message, this.#issues);
  }
}

/** Records every key of `options` that is not a task option, with its full path. */
function checkKnownKeys(options: object, problems: OptionProblems): void {
  const unknown = Object.keys(options).filter((key) => !(taskOptionKeys as readonly string[]).includes(key));
  if (unknown.length === 0) return;
  const paths = unknown.map((key) => `${problems.optionsPath}.${key}`);
  problems.add(
    `${paths.join(', ')} ${unknown.length === 1 ? 'is not an option' : 'are not options'}; the accepted ones are ${taskOptionKeys.join(', ')}.`,
    paths.map((path) => ({ path, message: 'unknown option' })),
  );
}

/**
 * Applies Asynq's defaults and precedence rules to the options and builds what the broker stores. Every
 * invalid option is reported in one `ValidationError`, each at its path (`options.timeout`).
 */
function buildRequest({
  type,
  payload,
  options,
  optionsPath,
  now,
  generateId,
}: BuildRequestInput): EnqueueRequest {
  // Per-call closures here cost a name definition each under tsx (esbuild's keepNames): methods instead.
  const problems = new OptionProblems(optionsPath);
  checkKnownKeys(options, problems);

  const queue = problems.check(() =>
    assertQueueName(options.queue ?? taskDefaults.queue, problems.path('queue')),
  );

  const maxRetry = options.maxRetry ?? taskDefaults.maxRetry;
  if (!Number.isSafeInteger(maxRetry) || maxRetry < 0) {
    problems.refuse(
      'maxRetry',
      `${problems.path('maxRetry')} must be a non-negative integer, got ${String(maxRetry)}.`,
      'not a non-negative integer',
    );
  }

  let id: string | undefined;
  if (options.taskId === undefined) {
    id = generateId();
  } else if (typeof options.taskId !== 'string' || options.taskId.trim() === '') {
    problems.refuse(
      'taskId',
      `${problems.path('taskId')} must be a non-empty string; omit it to get a generated id.`,
      'blank task id',
    );
  } else {
    id = options.taskId;
  }

  const timeout =
    options.timeout === undefined
      ? undefined
      : problems.check(() => toMilliseconds(options.timeout!, problems.path('timeout')));
  let deadline =
    options.deadline === undefined
      ? undefined
      : problems.check(() => toTime(options.deadline!, problems.path('deadline')));
  if (deadline !== undefined && deadline <= now) {
    deadline = problems.refuse(
      'deadline',
      `${problems.path('deadline')} ${new Date(deadline).toISOString()} is in the past; give a future time or use timeout instead.`,
      'in the past',
    );
  }
  // Asynq: with neither timeout nor deadline, a 30-minute timeout; with only a deadline, no timeout.
  // Both are whole seconds on the wire, rounded up so that neither ends before what was asked.
  const timeoutSeconds =
    options.timeout === undefined && options.deadline === undefined
      ? taskDefaults.timeoutMilliseconds / 1000
      : toWholeSecondsUp(timeout ?? 0);

  if (options.processAt !== undefined && options.processIn !== undefined) {
    problems.refuse(
      'processIn',
      `Give ${problems.path('processAt')} or ${problems.path('processIn')}, not both.`,
      'conflicts with processAt',
    );
  }
  let processAt: number | undefined;
  if (options.processAt !== undefined) {
    processAt = problems.check(() => toTime(options.processAt!, problems.path('processAt')));
  } else if (options.processIn !== undefined) {
    const delay = problems.check(() => toMilliseconds(options.processIn!, problems.path('processIn')));
    if (delay !== undefined) processAt = now + delay;
  }

  let uniqueTtl: number | undefined;
  if (options.unique !== undefined) {
    uniqueTtl = problems.check(() => toMilliseconds(options.unique!, problems.path('unique')));
    if (uniqueTtl !== undefined && uniqueTtl < uniqueMinimumMilliseconds) {
      uniqueTtl = problems.refuse(
        'unique',
        `${problems.path('unique')} must be at least 1s; it is the lock's lifetime.`,
        'under one second',
      );
    }
  }

  const retention =
    options.retention === undefined
      ? 0
      : (problems.check(() => toMilliseconds(options.retention!, problems.path('retention'))) ?? 0);

  let group = '';
  if (options.group !== undefined) {
    if (typeof options.group !== 'string' || options.group.trim() === '') {
      problems.refuse(
        'group',
        `${problems.path('group')} must be a non-empty string; omit it for no aggregation.`,
        'blank group',
      );
    } else {
      group = options.group;
    }
  }

  const headers: Record<string, string> = {};
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null || Array.isArray(options.headers)) {
      problems.refuse(
        'headers',
        `${problems.path('headers')} must be an object of strings.`,
        'not an object',
      );
    } else {
      for (const [key, value] of Object.entries(options.headers)) {
        if (typeof value !== 'string') {
          problems.refuse(
            `headers.${key}`,
            `${problems.path('headers')}.${key} must be a string, got ${typeof value}.`,
            'not a string',
          );
        } else {
          headers[key] = value;
        }
      }
    }
  }

  if (options.flowKey !== undefined) {
    const flowKey = problems.check(() => assertFlowKey(options.flowKey, problems.path('flowKey')));
    if (group !== '') {
      problems.refuse(
        'flowKey',
        `Give ${problems.path('flowKey')} or ${problems.path('group')}, not both: an aggregated task is a new task without the flow key.`,
        'conflicts with group',
      );
    } else if (flowKey !== undefined) {
      headers[flowKeyHeader] = flowKey;
    }
  }

  problems.throwIfAny();
  const message: TaskMessage = {
    id: id!,
    type,
    payload,
    queue: queue!,
    maxRetry,
    retried: 0,
    errorMessage: '',
    timeoutSeconds,
    deadlineUnixSeconds: deadline === undefined ? 0 : toWholeSecondsUp(deadline),
    uniqueKey: '',
    lastFailedAtUnixSeconds: 0,
    retentionSeconds: toWholeSecondsUp(retention),
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
