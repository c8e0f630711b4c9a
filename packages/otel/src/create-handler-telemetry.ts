/**
 * The consumer side: ServeMux middleware that runs each handler in a span, a child of (and linked to)
 * the producer's span whose context the task carries in its headers, with the attempt, its outcome and
 * its error; and the handler metrics.
 */
import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  isSpanContextValid,
  type Attributes,
  type Link,
} from '@opentelemetry/api';
import { assertKnownKeys } from '@q/core/internal';
import type { Middleware } from '@q/server';
import { recordFailure } from './record-failure';
import { attributes, errorTypeOf, messagingSystem, metrics } from './semantic-attributes';
import { decideAttempt } from './task-outcome';
import { resolveTelemetry, type TelemetryOptions } from './telemetry-options';

export interface HandlerTelemetryOptions extends TelemetryOptions {
  /**
   * Start each handler span as the root of a trace of its own, linked to the producer's span, instead of
   * as its child (for tasks that run long after the request that enqueued them, when one trace per
   * request would grow too long).
   * @default false
   */
  linkOnly?: boolean;
}

const optionKeys = ['tracerProvider', 'meterProvider', 'propagator', 'linkOnly'] as const;

/**
 * Traces every handler run of a ServeMux: `mux.use(createHandlerTelemetry())`. Register it first, so
 * that it wraps the other middleware and sees what the handler threw.
 */
export function createHandlerTelemetry(options: HandlerTelemetryOptions = {}): Middleware {
  assertKnownKeys(options, optionKeys, 'createHandlerTelemetry option');
  const { tracer, meter, propagator } = resolveTelemetry(options);
  const linkOnly = options.linkOnly ?? false;
  const consumed = meter.createCounter(metrics.consumedMessages, {
    description: 'Handler runs, by outcome.',
    unit: '{message}',
  });
  const failed = meter.createCounter(metrics.failedTasks, {
    description: 'Handler runs that failed, by outcome.',
    unit: '{message}',
  });
  const duration = meter.createHistogram(metrics.processDuration, {
    description: 'How long a handler ran.',
    unit: 's',
  });

  return async (task, taskContext, next) => {
    const extracted = propagator.extract(ROOT_CONTEXT, task.headers, defaultTextMapGetter);
    const producer = trace.getSpanContext(extracted);
    const links: Link[] = producer && isSpanContextValid(producer) ? [{ context: producer }] : [];
    const parent = linkOnly ? trace.deleteSpan(extracted) : extracted;
    const span = tracer.startSpan(
      `process ${task.queue}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          [attributes.messagingSystem]: messagingSystem,
          [attributes.operationName]: 'process',
          [attributes.operationType]: 'process',
          [attributes.destinationName]: task.queue,
          [attributes.messageId]: task.id,
          [attributes.bodySize]: task.payloadBytes.byteLength,
          [attributes.taskType]: task.type,
          [attributes.taskAttempt]: task.retried + 1,
          [attributes.taskMaxRetry]: task.maxRetry,
        },
      },
      parent,
    );
    const startedAt = performance.now();
    let thrown: unknown;
    let threw = false;
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (error) {
      thrown = error;
      threw = true;
    }
    const { outcome, error } = decideAttempt(task, taskContext.signal, thrown, threw);
    span.setAttribute(attributes.taskOutcome, outcome);
    const measured: Attributes = {
      [attributes.messagingSystem]: messagingSystem,
      [attributes.operationName]: 'process',
      [attributes.destinationName]: task.queue,
      [attributes.taskType]: task.type,
      [attributes.taskOutcome]: outcome,
    };
    // A revoked task was dropped on purpose: not a failure.
    if (error !== undefined && outcome !== 'revoked') {
      recordFailure(span, error);
      measured[attributes.errorType] = errorTypeOf(error);
      failed.add(1, measured);
    }
    span.end();
    consumed.add(1, measured);
    duration.record((performance.now() - startedAt) / 1000, measured);
    if (threw) throw thrown;
  };
}
