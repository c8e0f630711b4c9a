/**
 * Aggregation: the task a group aggregator makes starts a trace of its own, linked to the span of every
 * task it combines, and carries that trace's context to its handler.
 */
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Link,
} from '@opentelemetry/api';
import { assertKnownKeys } from '@q/core/internal';
import type { AggregatedTask, GroupAggregator } from '@q/server';
import { recordFailure } from './record-failure';
import { attributes, messagingSystem } from './semantic-attributes';
import { resolveTelemetry, type TelemetryOptions } from './telemetry-options';

const optionKeys = ['tracerProvider', 'meterProvider', 'propagator'] as const;

/**
 * Wraps a group aggregator: each run is an `aggregate` span, the root of a new trace, linked to the
 * producer span of every task of the group; its context goes into the aggregated task's headers.
 * `new Server({ groupAggregator: traceGroupAggregator(aggregate) })`.
 */
export function traceGroupAggregator(
  aggregator: GroupAggregator,
  options: TelemetryOptions = {},
): GroupAggregator {
  assertKnownKeys(options, optionKeys, 'traceGroupAggregator option');
  const { tracer, propagator } = resolveTelemetry(options);
  return async (group, tasks) => {
    const links: Link[] = [];
    for (const task of tasks) {
      const member = trace.getSpanContext(
        propagator.extract(ROOT_CONTEXT, task.headers, defaultTextMapGetter),
      );
      if (member && isSpanContextValid(member)) {
        links.push({ context: member, attributes: { [attributes.messageId]: task.id } });
      }
    }
    const queue = tasks[0]?.queue;
    const spanAttributes: Attributes = {
      [attributes.messagingSystem]: messagingSystem,
      [attributes.operationName]: 'aggregate',
      [attributes.operationType]: 'create',
      [attributes.batchMessageCount]: tasks.length,
      [attributes.group]: group,
    };
    if (queue !== undefined) spanAttributes[attributes.destinationName] = queue;
    const span = tracer.startSpan(
      queue === undefined ? 'aggregate' : `aggregate ${queue}`,
      { kind: SpanKind.PRODUCER, root: true, links, attributes: spanAttributes },
      ROOT_CONTEXT,
    );
    const active = trace.setSpan(ROOT_CONTEXT, span);
    try {
      const aggregated: AggregatedTask = await context.with(active, () => aggregator(group, tasks));
      // The server refuses what is not a task, with its own message.
      if (typeof aggregated !== 'object' || aggregated === null) return aggregated;
      const headers: Record<string, string> = { ...aggregated.options?.headers };
      propagator.inject(active, headers, defaultTextMapSetter);
      if (typeof aggregated.type === 'string') span.setAttribute(attributes.taskType, aggregated.type);
      if (typeof aggregated.options?.taskId === 'string') {
        span.setAttribute(attributes.messageId, aggregated.options.taskId);
      }
      return { ...aggregated, options: { ...aggregated.options, headers } };
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  };
}
