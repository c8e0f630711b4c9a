/**
 * The producer side: a span per enqueue (and per batch, with a `create` span per task), the W3C trace
 * context written into each task's headers, and the enqueue metrics. Plugs into a client or a scheduler
 * as an `EnqueueInterceptor`.
 */
import {
  context,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Context,
} from '@opentelemetry/api';
import type { EnqueueInterceptor, EnqueueOutcome, OutgoingTask } from '@q/client';
import type { TaskInfo } from '@q/core';
import { assertKnownKeys } from '@q/core/internal';
import { recordFailure } from './record-failure';
import { attributes, errorTypeOf, messagingSystem, metrics } from './semantic-attributes';
import { resolveTelemetry, type TelemetryOptions } from './telemetry-options';

export interface EnqueueTelemetryOptions extends TelemetryOptions {
  /**
   * Start every enqueue's span as the root of a new trace, whatever span is active. A scheduler wants
   * this: each tick is a trace of its own rather than a child of whatever started the scheduler.
   * @default false
   */
  root?: boolean;
}

const optionKeys = ['tracerProvider', 'meterProvider', 'propagator', 'root'] as const;

/**
 * Traces every enqueue of the client (or scheduler) it is given to:
 * `new Client({ broker, interceptors: [createEnqueueTelemetry()] })`.
 */
export function createEnqueueTelemetry(options: EnqueueTelemetryOptions = {}): EnqueueInterceptor {
  assertKnownKeys(options, optionKeys, 'createEnqueueTelemetry option');
  const { tracer, meter, propagator } = resolveTelemetry(options);
  const root = options.root ?? false;
  const sent = meter.createCounter(metrics.sentMessages, {
    description: 'Tasks enqueued (each task of a batch counts).',
    unit: '{message}',
  });
  const duration = meter.createHistogram(metrics.operationDuration, {
    description: 'How long an enqueue or a batch of enqueues took.',
    unit: 's',
  });

  const parentContext = (): Context => (root ? ROOT_CONTEXT : context.active());

  const measure = (operationName: string, queue: string | undefined, startedAt: number, error?: unknown) => {
    const measured: Attributes = {
      [attributes.messagingSystem]: messagingSystem,
      [attributes.operationName]: operationName,
    };
    if (queue !== undefined) measured[attributes.destinationName] = queue;
    if (error !== undefined) measured[attributes.errorType] = errorTypeOf(error);
    duration.record((performance.now() - startedAt) / 1000, measured);
  };

  const countSent = (operationName: string, queue: string, error?: unknown): void => {
    const counted: Attributes = {
      [attributes.messagingSystem]: messagingSystem,
      [attributes.operationName]: operationName,
      [attributes.destinationName]: queue,
    };
    if (error !== undefined) counted[attributes.errorType] = errorTypeOf(error);
    sent.add(1, counted);
  };

  return {
    async enqueue(task: OutgoingTask, next: () => Promise<TaskInfo>): Promise<TaskInfo> {
      const parent = parentContext();
      const span = tracer.startSpan(
        `enqueue ${task.queue}`,
        { kind: SpanKind.PRODUCER, attributes: taskAttributes(task, 'enqueue', 'send') },
        parent,
      );
      const active = trace.setSpan(parent, span);
      propagator.inject(active, task.headers, defaultTextMapSetter);
      const startedAt = performance.now();
      try {
        const info = await context.with(active, next);
        span.setAttribute(attributes.taskState, info.state);
        countSent('enqueue', task.queue);
        measure('enqueue', task.queue, startedAt);
        return info;
      } catch (error) {
        recordFailure(span, error);
        countSent('enqueue', task.queue, error);
        measure('enqueue', task.queue, startedAt, error);
        throw error;
      } finally {
        span.end();
      }
    },

    async enqueueMany(
      tasks: readonly OutgoingTask[],
      next: () => Promise<EnqueueOutcome[]>,
    ): Promise<EnqueueOutcome[]> {
      const queues = new Set(tasks.map((task) => task.queue));
      const queue = queues.size === 1 ? tasks[0]!.queue : undefined;
      const parent = parentContext();
      const batchAttributes: Attributes = {
        [attributes.messagingSystem]: messagingSystem,
        [attributes.operationName]: 'enqueue_many',
        [attributes.operationType]: 'send',
        [attributes.batchMessageCount]: tasks.length,
      };
      if (queue !== undefined) batchAttributes[attributes.destinationName] = queue;
      const batch = tracer.startSpan(
        queue === undefined ? 'enqueue_many' : `enqueue_many ${queue}`,
        { kind: SpanKind.PRODUCER, attributes: batchAttributes },
        parent,
      );
      const batchContext = trace.setSpan(parent, batch);
      // One creation context per task, so that each handler's span links to its own task.
      const created = tasks.map((task) => {
        const span = tracer.startSpan(
          `create ${task.queue}`,
          { kind: SpanKind.PRODUCER, attributes: taskAttributes(task, 'create', 'create') },
          batchContext,
        );
        propagator.inject(trace.setSpan(batchContext, span), task.headers, defaultTextMapSetter);
        return span;
      });
      const startedAt = performance.now();
      try {
        const outcomes = await context.with(batchContext, next);
        outcomes.forEach((outcome, index) => {
          const task = tasks[index];
          const span = created[index];
          if (!task || !span) return;
          if (outcome.ok) {
            span.setAttribute(attributes.taskState, outcome.info.state);
            countSent('enqueue_many', task.queue);
          } else {
            recordFailure(span, outcome.error);
            countSent('enqueue_many', task.queue, outcome.error);
          }
        });
        measure('enqueue_many', queue, startedAt);
        return outcomes;
      } catch (error) {
        recordFailure(batch, error);
        for (const [index, span] of created.entries()) {
          recordFailure(span, error);
          countSent('enqueue_many', tasks[index]!.queue, error);
        }
        measure('enqueue_many', queue, startedAt, error);
        throw error;
      } finally {
        for (const span of created) span.end();
        batch.end();
      }
    },
  };
}

function taskAttributes(task: OutgoingTask, operationName: string, operationType: string): Attributes {
  const spanAttributes: Attributes = {
    [attributes.messagingSystem]: messagingSystem,
    [attributes.operationName]: operationName,
    [attributes.operationType]: operationType,
    [attributes.destinationName]: task.queue,
    [attributes.messageId]: task.id,
    [attributes.bodySize]: task.payload.byteLength,
    [attributes.taskType]: task.type,
  };
  if (task.group !== '') spanAttributes[attributes.group] = task.group;
  return spanAttributes;
}
