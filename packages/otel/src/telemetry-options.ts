import {
  metrics,
  propagation,
  trace,
  type Meter,
  type MeterProvider,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/** Where telemetry goes; every option defaults to what is registered globally (as `NodeSDK` does). */
export interface TelemetryOptions {
  /** @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /** @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
  /**
   * Writes the trace context into a task's headers and reads it back. The global one is W3C trace
   * context (`traceparent`, `tracestate`) and baggage under `NodeSDK`; with a bare tracer provider,
   * register one (`propagation.setGlobalPropagator(new W3CTraceContextPropagator())`) or pass it here.
   * @default the global propagator (`propagation`)
   */
  propagator?: TextMapPropagator;
}

const instrumentationName = '@q/otel';

export interface ResolvedTelemetry {
  tracer: Tracer;
  meter: Meter;
  propagator: Pick<TextMapPropagator, 'inject' | 'extract'>;
}

export function resolveTelemetry(options: TelemetryOptions): ResolvedTelemetry {
  return {
    tracer: (options.tracerProvider ?? trace.getTracerProvider()).getTracer(instrumentationName),
    meter: (options.meterProvider ?? metrics.getMeterProvider()).getMeter(instrumentationName),
    propagator: options.propagator ?? propagation,
  };
}
