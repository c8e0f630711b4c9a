/**
 * Test plumbing: an OpenTelemetry SDK whose spans go to an in-memory exporter and whose metrics are read
 * on demand, the AsyncLocalStorage context manager, and a Redis broker, client and servers under a key
 * prefix of their own on the test redis-server, all closed when the test ends.
 */
import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { createRedisBroker, type RedisBroker } from '@q/broker-redis';
import { Client } from '@q/client';
import { Server, type ServerOptions } from '@q/server';
import { inject, onTestFinished } from 'vitest';

let contextManager: AsyncLocalStorageContextManager | undefined;

/** Spans and metrics are only collected, never exported anywhere. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TelemetryHarness {
  options: {
    tracerProvider: TracerProvider;
    meterProvider: MeterProvider;
    propagator: W3CTraceContextPropagator;
  };
  tracerProvider: TracerProvider;
  spans(): ReadableSpan[];
  /** The data points of a metric at this collection. */
  metric(name: string): Promise<DataPoint<unknown>[]>;
}

export function createTelemetryHarness(): TelemetryHarness {
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  onTestFinished(async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });
  return {
    options: { tracerProvider, meterProvider, propagator: new W3CTraceContextPropagator() },
    tracerProvider,
    spans: () => exporter.getFinishedSpans(),
    async metric(name) {
      const { resourceMetrics } = await reader.collect();
      const found: MetricData[] = resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.filter((metric) => metric.descriptor.name === name),
      );
      return found.flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
    },
  };
}

export interface QueueHarness {
  prefix: string;
  broker: RedisBroker;
  client(options?: Omit<ConstructorParameters<typeof Client>[0], 'broker'>): Client;
  server(options?: Partial<ServerOptions>): Server;
}

export function createQueueHarness(): QueueHarness {
  const prefix = `qotel-${randomUUID().slice(0, 8)}`;
  const broker = createRedisBroker({ url: inject('redisUrl'), prefix });
  const servers: Server[] = [];
  onTestFinished(async () => {
    await Promise.all(servers.map((server) => server.shutdown({ force: true })));
    await broker.close();
  });
  return {
    prefix,
    broker,
    client: (options = {}) => new Client({ broker, ...options }),
    server: (options = {}) => {
      const server = new Server({
        broker,
        concurrency: 2,
        taskCheckInterval: 100,
        delayedTaskCheckInterval: 100,
        heartbeatInterval: 1000,
        shutdownTimeout: 1000,
        retryDelay: () => 0,
        ...options,
      });
      servers.push(server);
      return server;
    },
  };
}

/** A queue name no other test uses. */
export const queueName = (label: string): string => `${label}-${randomUUID().slice(0, 6)}`;

export { waitFor } from '../../../test/wait-for';

/** The spans named `name`, in the order they ended. */
export const spansNamed = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] =>
  spans.filter((span) => span.name === name);
