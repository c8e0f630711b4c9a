/**
 * OpenTelemetry for the demo, off unless `OTEL_TRACES_EXPORTER` asks for it: `console` prints each span
 * as it ends, `otlp` sends them to an OpenTelemetry collector (`OTEL_EXPORTER_OTLP_ENDPOINT`, by default
 * http://localhost:4318). The SDK, the context manager and the propagator are the app's choice;
 * `@q/otel` only uses the API, so it finds them through the globals registered here.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Logger } from '@q/core';

export interface Tracing {
  /** Whether spans are recorded; when not, the demo leaves @q's telemetry out altogether. */
  readonly enabled: boolean;
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

const exporters = ['console', 'otlp', 'none'] as const;

export function startTracing(logger: Logger): Tracing {
  const chosen = process.env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'none';
  if (!(exporters as readonly string[]).includes(chosen)) {
    throw new Error(
      `OTEL_TRACES_EXPORTER=${chosen} is not supported by the demo; use console, otlp or none.`,
    );
  }
  if (chosen === 'none') return { enabled: false, shutdown: () => Promise.resolve() };
  const processor: SpanProcessor =
    chosen === 'console'
      ? new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })
      : new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.OTEL_SERVICE_NAME ?? 'q-demo-worker',
    }),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  logger.info({ exporter: chosen }, `tracing with OpenTelemetry (${chosen} exporter)`);
  return { enabled: true, shutdown: () => provider.shutdown() };
}
