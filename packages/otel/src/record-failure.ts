import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { attributes, errorTypeOf } from './semantic-attributes';

/** Marks a span failed: `error.type`, an `exception` event, and the error's message as its status. */
export function recordFailure(span: Span, error: unknown): void {
  span.setAttribute(attributes.errorType, errorTypeOf(error));
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
