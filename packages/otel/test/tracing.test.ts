/**
 * Traces against a real Redis, collected by the OpenTelemetry SDK's in-memory exporter: one trace from
 * enqueue to handler, the messaging conventions' attributes, every attempt of a retried task, scheduled,
 * batched, aggregated and periodic tasks, outcomes and errors, and Go-written tasks without headers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_BODY_SIZE,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_OPERATION_TYPE_VALUE_CREATE,
  MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
  METRIC_MESSAGING_PROCESS_DURATION,
} from '@opentelemetry/semantic-conventions/incubating';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Scheduler } from '@q/scheduler';
import { TaskIdConflictError, ValidationError } from '@q/core';
import { RevokeTask, ServeMux, SkipRetry } from '@q/server';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import {
  attributes,
  createEnqueueTelemetry,
  createHandlerTelemetry,
  metrics,
  observeQueues,
  traceGroupAggregator,
} from '../src/index';
import {
  createQueueHarness,
  createTelemetryHarness,
  queueName,
  spansNamed,
  waitFor,
} from './telemetry-harness';

const traceId = (span: ReadableSpan): string => span.spanContext().traceId;
const spanId = (span: ReadableSpan): string => span.spanContext().spanId;

describe('attribute and metric names', () => {
  it("are OpenTelemetry's messaging semantic conventions", () => {
    expect(attributes).toMatchObject({
      messagingSystem: ATTR_MESSAGING_SYSTEM,
      operationName: ATTR_MESSAGING_OPERATION_NAME,
      operationType: ATTR_MESSAGING_OPERATION_TYPE,
      destinationName: ATTR_MESSAGING_DESTINATION_NAME,
      messageId: ATTR_MESSAGING_MESSAGE_ID,
      bodySize: ATTR_MESSAGING_MESSAGE_BODY_SIZE,
      batchMessageCount: ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
      errorType: ATTR_ERROR_TYPE,
    });
    expect(metrics).toMatchObject({
      sentMessages: METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
      operationDuration: METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
      consumedMessages: METRIC_MESSAGING_CLIENT_CONSUMED_MESSAGES,
      processDuration: METRIC_MESSAGING_PROCESS_DURATION,
    });
  });
});

describe('options', () => {
  it('are checked, and a misspelt one is named', () => {
    expect(() => createEnqueueTelemetry({ roots: true } as never)).toThrow(ValidationError);
    expect(() => createHandlerTelemetry({ linkonly: true } as never)).toThrow(/linkonly/);
    expect(() => traceGroupAggregator(() => ({ type: 'x' }), { meter: 1 } as never)).toThrow(/meter/);
  });
});

describe('tracing from enqueue to handler', () => {
  it('makes the handler span a child of the enqueue span, with the conventions’ attributes', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('basic');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const seenHeaders: Record<string, string>[] = [];
    let activeInHandler: string | undefined;
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('email:send', (task) => {
      seenHeaders.push({ ...task.headers });
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
    });
    await queues.server({ queues: { [queue]: 1 } }).start(mux);

    const tracer = telemetry.tracerProvider.getTracer('test');
    const info = await tracer.startActiveSpan('POST /signup', async (request) => {
      try {
        return await client.enqueue(
          'email:send',
          { to: 'a@example.com' },
          { queue, headers: { tenant: 'acme' } },
        );
      } finally {
        request.end();
      }
    });
    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the handler span',
    );
    const [request] = spansNamed(telemetry.spans(), 'POST /signup');
    const [enqueue] = spansNamed(telemetry.spans(), `enqueue ${queue}`);

    expect(enqueue!.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue!.parentSpanContext?.spanId).toBe(spanId(request!));
    expect(enqueue!.attributes).toEqual({
      [ATTR_MESSAGING_SYSTEM]: 'asynq',
      [ATTR_MESSAGING_OPERATION_NAME]: 'enqueue',
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
      [ATTR_MESSAGING_DESTINATION_NAME]: queue,
      [ATTR_MESSAGING_MESSAGE_ID]: info.id,
      [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: info.payload.byteLength,
      'messaging.asynq.task.type': 'email:send',
      'messaging.asynq.task.state': 'pending',
    });

    expect(processed.kind).toBe(SpanKind.CONSUMER);
    expect(traceId(processed)).toBe(traceId(request!));
    expect(processed.parentSpanContext?.spanId).toBe(spanId(enqueue!));
    expect(processed.links.map((link) => link.context.spanId)).toEqual([spanId(enqueue!)]);
    expect(processed.attributes).toEqual({
      [ATTR_MESSAGING_SYSTEM]: 'asynq',
      [ATTR_MESSAGING_OPERATION_NAME]: 'process',
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_PROCESS,
      [ATTR_MESSAGING_DESTINATION_NAME]: queue,
      [ATTR_MESSAGING_MESSAGE_ID]: info.id,
      [ATTR_MESSAGING_MESSAGE_BODY_SIZE]: info.payload.byteLength,
      'messaging.asynq.task.type': 'email:send',
      'messaging.asynq.task.attempt': 1,
      'messaging.asynq.task.max_retry': 25,
      'messaging.asynq.task.outcome': 'done',
    });
    expect(processed.status.code).toBe(SpanStatusCode.UNSET);
    // The handler runs inside its span, and the task kept the headers it was given.
    expect(activeInHandler).toBe(spanId(processed));
    expect(seenHeaders[0]?.['tenant']).toBe('acme');
    expect(seenHeaders[0]?.['traceparent']).toBe(`00-${traceId(request!)}-${spanId(enqueue!)}-01`);
  });

  it('shows every attempt of a retried task, each a child of the one enqueue', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('retried');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    let attempts = 0;
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('flaky', () => {
      attempts += 1;
      if (attempts < 3) throw new TypeError(`attempt ${attempts} failed`);
    });
    await queues.server({ queues: { [queue]: 1 } }).start(mux);
    await client.enqueue('flaky', {}, { queue, maxRetry: 5 });
    const processed = await waitFor(() => {
      const found = spansNamed(telemetry.spans(), `process ${queue}`);
      return found.length === 3 ? found : undefined;
    }, 'three attempts');
    const [enqueue] = spansNamed(telemetry.spans(), `enqueue ${queue}`);
    expect(
      processed.map((span) => [
        span.attributes['messaging.asynq.task.attempt'],
        span.attributes['messaging.asynq.task.outcome'],
        span.attributes[ATTR_ERROR_TYPE],
        span.status.code,
      ]),
    ).toEqual([
      [1, 'retry', 'TypeError', SpanStatusCode.ERROR],
      [2, 'retry', 'TypeError', SpanStatusCode.ERROR],
      [3, 'done', undefined, SpanStatusCode.UNSET],
    ]);
    for (const span of processed) {
      expect(traceId(span)).toBe(traceId(enqueue!));
      expect(span.parentSpanContext?.spanId).toBe(spanId(enqueue!));
    }
    expect(processed[0]!.status.message).toBe('attempt 1 failed');
    expect(processed[0]!.events.map((event) => event.name)).toEqual(['exception']);
    expect(processed[0]!.events[0]!.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'attempt 1 failed',
    });
  });

  it('keeps the trace of a task scheduled with processIn', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('later');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('later', () => {});
    await queues.server({ queues: { [queue]: 1 } }).start(mux);
    const info = await client.enqueue('later', {}, { queue, processIn: '1s' });
    expect(info.state).toBe('scheduled');
    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the handler',
    );
    const [enqueue] = spansNamed(telemetry.spans(), `enqueue ${queue}`);
    expect(enqueue!.attributes['messaging.asynq.task.state']).toBe('scheduled');
    expect(processed.parentSpanContext?.spanId).toBe(spanId(enqueue!));
  });

  it('gives each task of a batch its own creation span, which its handler continues', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('batch');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('item', () => {});
    await queues.server({ queues: { [queue]: 1 } }).start(mux);
    await client.enqueue('item', 0, { queue, taskId: 'taken' });
    const outcomes = await client.enqueueMany([
      { type: 'item', payload: 1, options: { queue, taskId: 'one' } },
      { type: 'item', payload: 2, options: { queue, taskId: 'two' } },
      { type: 'item', payload: 3, options: { queue, taskId: 'taken' } },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, false]);
    const processed = await waitFor(() => {
      const found = spansNamed(telemetry.spans(), `process ${queue}`);
      return found.length === 3 ? found : undefined;
    }, 'three handler runs');
    const [batch] = spansNamed(telemetry.spans(), `enqueue_many ${queue}`);
    expect(batch!.attributes).toMatchObject({
      [ATTR_MESSAGING_OPERATION_NAME]: 'enqueue_many',
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
      [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: 3,
      [ATTR_MESSAGING_DESTINATION_NAME]: queue,
    });
    const created = spansNamed(telemetry.spans(), `create ${queue}`);
    expect(created.map((span) => span.attributes[ATTR_MESSAGING_MESSAGE_ID])).toEqual([
      'one',
      'two',
      'taken',
    ]);
    for (const span of created) {
      expect(span.attributes[ATTR_MESSAGING_OPERATION_TYPE]).toBe(MESSAGING_OPERATION_TYPE_VALUE_CREATE);
      expect(span.parentSpanContext?.spanId).toBe(spanId(batch!));
    }
    expect(created[2]!.attributes[ATTR_ERROR_TYPE]).toBe('TaskIdConflictError');
    expect(created[2]!.status.code).toBe(SpanStatusCode.ERROR);
    for (const id of ['one', 'two']) {
      const handled = processed.find((span) => span.attributes[ATTR_MESSAGING_MESSAGE_ID] === id)!;
      const creation = created.find((span) => span.attributes[ATTR_MESSAGING_MESSAGE_ID] === id)!;
      expect(handled.parentSpanContext?.spanId).toBe(spanId(creation));
    }
  });

  it('records the outcome and the error of each kind of failure', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('outcomes');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const mux = new ServeMux()
      .use(createHandlerTelemetry(telemetry.options))
      .handle('skip', () => {
        throw new SkipRetry('the payload will never be valid');
      })
      .handle('revoke', () => {
        throw new RevokeTask();
      })
      .handle('exhausted', () => {
        throw new RangeError('out of range');
      })
      .handle(
        'slow',
        (_task, context) => new Promise((resolve) => context.signal.addEventListener('abort', resolve)),
      );
    await queues.server({ queues: { [queue]: 1 }, concurrency: 4 }).start(mux);
    await client.enqueue('skip', {}, { queue });
    await client.enqueue('revoke', {}, { queue });
    await client.enqueue('exhausted', {}, { queue, maxRetry: 0 });
    await client.enqueue('slow', {}, { queue, timeout: '1s', maxRetry: 1 });
    const processed = await waitFor(() => {
      const found = spansNamed(telemetry.spans(), `process ${queue}`);
      return found.length >= 5 ? found : undefined;
    }, 'every handler run');
    const byType = (type: string) =>
      processed
        .filter((span) => span.attributes['messaging.asynq.task.type'] === type)
        .map((span) => ({
          outcome: span.attributes['messaging.asynq.task.outcome'],
          errorType: span.attributes[ATTR_ERROR_TYPE],
          status: span.status.code,
        }));
    expect(byType('skip')).toEqual([
      { outcome: 'skip-retry', errorType: 'SkipRetry', status: SpanStatusCode.ERROR },
    ]);
    expect(byType('revoke')).toEqual([
      { outcome: 'revoked', errorType: undefined, status: SpanStatusCode.UNSET },
    ]);
    expect(byType('exhausted')).toEqual([
      { outcome: 'archived', errorType: 'RangeError', status: SpanStatusCode.ERROR },
    ]);
    // The handler returned after its timeout: the server counts the timeout, and so does the span.
    expect(byType('slow')).toEqual([
      { outcome: 'retry', errorType: 'TaskAbortedError', status: SpanStatusCode.ERROR },
      { outcome: 'archived', errorType: 'TaskAbortedError', status: SpanStatusCode.ERROR },
    ]);

    const consumed = await telemetry.metric(metrics.consumedMessages);
    const outcomeCounts: Record<string, number> = {};
    for (const point of consumed) {
      const outcome = String(point.attributes['messaging.asynq.task.outcome']);
      outcomeCounts[outcome] = (outcomeCounts[outcome] ?? 0) + (point.value as number);
    }
    expect(outcomeCounts).toEqual({ 'skip-retry': 1, revoked: 1, archived: 2, retry: 1 });
    const failed = await telemetry.metric(metrics.failedTasks);
    expect(failed.reduce((sum, point) => sum + (point.value as number), 0)).toBe(4);
    const durations = await telemetry.metric(metrics.processDuration);
    expect(durations.reduce((sum, point) => sum + (point.value as { count: number }).count, 0)).toBe(5);
    const sent = await telemetry.metric(metrics.sentMessages);
    expect(sent).toEqual([
      expect.objectContaining({
        value: 4,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: 'asynq',
          [ATTR_MESSAGING_OPERATION_NAME]: 'enqueue',
          [ATTR_MESSAGING_DESTINATION_NAME]: queue,
        },
      }),
    ]);
  });

  it('marks an enqueue the broker refused as failed, and counts it with its error type', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('refused');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    await client.enqueue('x', 1, { queue, taskId: 'taken' });
    await expect(client.enqueue('x', 2, { queue, taskId: 'taken' })).rejects.toBeInstanceOf(
      TaskIdConflictError,
    );
    const [, refused] = spansNamed(telemetry.spans(), `enqueue ${queue}`);
    expect(refused!.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused!.attributes[ATTR_ERROR_TYPE]).toBe('TaskIdConflictError');
    const sent = await telemetry.metric(metrics.sentMessages);
    expect(sent.map((point) => [point.attributes[ATTR_ERROR_TYPE], point.value])).toEqual([
      [undefined, 1],
      ['TaskIdConflictError', 1],
    ]);
    const durations = await telemetry.metric(metrics.operationDuration);
    expect(durations.reduce((sum, point) => sum + (point.value as { count: number }).count, 0)).toBe(2);
  });

  it('says a task was requeued when the server shut down before its handler finished', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('requeued');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    let started = false;
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle(
      'long',
      (_task, context) =>
        new Promise((resolve) => {
          started = true;
          context.signal.addEventListener('abort', resolve);
        }),
    );
    const server = queues.server({ queues: { [queue]: 1 } });
    await server.start(mux);
    await client.enqueue('long', {}, { queue });
    await waitFor(() => started, 'the handler to start');
    await server.shutdown({ force: true });
    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the handler span',
    );
    expect(processed.attributes['messaging.asynq.task.outcome']).toBe('requeued');
    expect(processed.attributes[ATTR_ERROR_TYPE]).toBe('TaskAbortedError');
  });

  it('starts a handler span of its own for a task without headers, as Go Asynq writes them', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    await restoreGoPendingTasks(queues.prefix);
    const handled: string[] = [];
    const mux = new ServeMux()
      .use(createHandlerTelemetry(telemetry.options))
      .handle('email:send', (task) => void handled.push(task.id))
      .handle('noop', (task) => void handled.push(task.id));
    await queues.server({ queues: { default: 1 } }).start(mux);
    // The third, t-deadline, is past its deadline: it is failed without running, as Go Asynq does.
    const processed = await waitFor(() => {
      const found = spansNamed(telemetry.spans(), 'process default');
      return found.length === 2 ? found : undefined;
    }, 'the two Go tasks that can still run');
    expect(processed.map((span) => span.attributes[ATTR_MESSAGING_MESSAGE_ID]).sort()).toEqual([
      't-defaults',
      't-pending',
    ]);
    for (const span of processed) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
      expect(span.attributes['messaging.asynq.task.outcome']).toBe('done');
    }
    expect(new Set(processed.map(traceId)).size).toBe(2);
    expect(handled.sort()).toEqual(['t-defaults', 't-pending']);
  });

  it('with linkOnly, starts each handler span as a new trace linked to the enqueue', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('linked');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const mux = new ServeMux()
      .use(createHandlerTelemetry({ ...telemetry.options, linkOnly: true }))
      .handle('linked', () => {});
    await queues.server({ queues: { [queue]: 1 } }).start(mux);
    await client.enqueue('linked', {}, { queue });
    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the handler',
    );
    const [enqueue] = spansNamed(telemetry.spans(), `enqueue ${queue}`);
    expect(processed.parentSpanContext).toBeUndefined();
    expect(traceId(processed)).not.toBe(traceId(enqueue!));
    expect(processed.links[0]!.context).toMatchObject({
      traceId: traceId(enqueue!),
      spanId: spanId(enqueue!),
    });
  });
});

describe('aggregation and the scheduler', () => {
  it('links the aggregated task to every task of its group, and its handler continues the aggregation', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('groups');
    const client = queues.client({ interceptors: [createEnqueueTelemetry(telemetry.options)] });
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('digest', () => {});
    await queues
      .server({
        queues: { [queue]: 1 },
        groupMaxSize: 2,
        groupGracePeriod: '1s',
        groupAggregator: traceGroupAggregator(
          (group, tasks) => ({
            type: 'digest',
            payload: { group, count: tasks.length },
            options: { taskId: 'digest-1' },
          }),
          telemetry.options,
        ),
      })
      .start(mux);
    await client.enqueue('member', 1, { queue, group: 'user42' });
    await client.enqueue('member', 2, { queue, group: 'user42' });
    const processed = await waitFor(
      () => spansNamed(telemetry.spans(), `process ${queue}`)[0],
      'the aggregated task',
    );
    const members = spansNamed(telemetry.spans(), `enqueue ${queue}`);
    const [aggregate] = spansNamed(telemetry.spans(), `aggregate ${queue}`);
    expect(members.map((span) => span.attributes['messaging.asynq.group'])).toEqual(['user42', 'user42']);
    expect(aggregate!.parentSpanContext).toBeUndefined();
    expect(aggregate!.attributes).toMatchObject({
      [ATTR_MESSAGING_OPERATION_NAME]: 'aggregate',
      [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_CREATE,
      [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: 2,
      [ATTR_MESSAGING_MESSAGE_ID]: 'digest-1',
      'messaging.asynq.group': 'user42',
    });
    expect(aggregate!.links.map((link) => link.context.spanId).sort()).toEqual(members.map(spanId).sort());
    expect(processed.attributes[ATTR_MESSAGING_MESSAGE_ID]).toBe('digest-1');
    expect(processed.parentSpanContext?.spanId).toBe(spanId(aggregate!));
  });

  it('starts a new trace for every tick of a scheduler, whatever span started it', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('cron');
    const scheduler = new Scheduler({
      broker: queues.broker,
      interceptors: [createEnqueueTelemetry({ ...telemetry.options, root: true })],
    });
    scheduler.register('@every 1s', { type: 'tick', options: { queue } });
    const mux = new ServeMux().use(createHandlerTelemetry(telemetry.options)).handle('tick', () => {});
    await queues.server({ queues: { [queue]: 1 } }).start(mux);
    const startup = telemetry.tracerProvider.getTracer('test').startSpan('startup');
    try {
      await context.with(trace.setSpan(context.active(), startup), () => scheduler.start());
      const processed = await waitFor(() => {
        const found = spansNamed(telemetry.spans(), `process ${queue}`);
        return found.length >= 2 ? found : undefined;
      }, 'two ticks');
      const enqueues = spansNamed(telemetry.spans(), `enqueue ${queue}`);
      for (const span of enqueues) expect(span.parentSpanContext).toBeUndefined();
      expect(new Set(processed.slice(0, 2).map(traceId)).size).toBe(2);
      for (const span of processed) expect(traceId(span)).not.toBe(startup.spanContext().traceId);
    } finally {
      startup.end();
      await scheduler.shutdown();
    }
  });
});

describe('queue metrics from the store', () => {
  it('reports latency, size by state and the lifetime counters of every queue', async () => {
    const telemetry = createTelemetryHarness();
    const queues = createQueueHarness();
    const queue = queueName('observed');
    const client = queues.client();
    await client.enqueue('waiting', {}, { queue });
    await client.enqueue('later', {}, { queue, processIn: '1h' });
    let readings = 0;
    const observation = observeQueues({
      meterProvider: telemetry.options.meterProvider,
      inspector: {
        queues: async () => {
          readings += 1;
          return [...(await queues.broker.listQueues())];
        },
        getQueueInfo: (name) => queues.broker.queueStats(name, Date.now()),
      },
    });
    const size = await telemetry.metric(metrics.queueSize);
    const sizeOf = (state: string) =>
      size.find(
        (point) =>
          point.attributes[ATTR_MESSAGING_DESTINATION_NAME] === queue &&
          point.attributes['messaging.asynq.queue.state'] === state,
      )?.value;
    expect([sizeOf('pending'), sizeOf('scheduled'), sizeOf('active')]).toEqual([1, 1, 0]);
    const latency = await telemetry.metric(metrics.queueLatency);
    expect(
      latency.find((point) => point.attributes[ATTR_MESSAGING_DESTINATION_NAME] === queue)?.value,
    ).toBeGreaterThanOrEqual(0);
    const processed = await telemetry.metric(metrics.queueProcessed);
    expect(
      processed.find((point) => point.attributes[ATTR_MESSAGING_DESTINATION_NAME] === queue)?.value,
    ).toBe(0);
    expect(readings).toBe(3);
    observation.stop();
    await telemetry.metric(metrics.queueSize);
    expect(readings).toBe(3);
  });
});

/** Go Asynq v0.24.1's three pending tasks (no headers: that version has none) under `prefix`. */
async function restoreGoPendingTasks(prefix: string): Promise<void> {
  const file = fileURLToPath(
    new URL('../../broker-redis/test/fixtures/asynq-v0.24.1/01-pending.json', import.meta.url),
  );
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { type: string; value: unknown }>;
  const bytes = (value: unknown): Buffer => {
    const record = value as { text?: string; base64?: string };
    return record.base64 !== undefined
      ? Buffer.from(record.base64, 'base64')
      : Buffer.from(record.text ?? '');
  };
  const redis = new Redis(inject('redisUrl'));
  try {
    for (const [key, entry] of Object.entries(fixture)) {
      const target = `${prefix}${key.slice('asynq'.length)}`;
      if (entry.type === 'set') await redis.sadd(target, ...(entry.value as string[]));
      else if (entry.type === 'list') await redis.rpush(target, ...(entry.value as unknown[]).map(bytes));
      else if (entry.type === 'hash') {
        for (const [field, value] of Object.entries(entry.value as Record<string, unknown>)) {
          await redis.hset(target, field, bytes(value));
        }
      }
    }
  } finally {
    await redis.quit();
  }
}
