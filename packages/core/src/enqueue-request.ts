/**
 * The checks every broker makes on an `EnqueueRequest` before it writes anything, so that each broker
 * refuses the same requests with the same `ValidationError`.
 */
import type { EnqueueRequest } from './broker';
import { ValidationError } from './errors';
import { assertQueueName, assertTaskType } from './validation';

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(message, [{ path, message }]);
}

/** Throws `ValidationError` for a request no broker can write: a bad message, `processAt` or `uniqueTtl`. */
export function assertEnqueueRequest(request: EnqueueRequest): void {
  if (typeof request !== 'object' || request === null) {
    throw invalid('request', 'An enqueue request must be an object with a message.');
  }
  const { message, processAt, uniqueTtl } = request;
  if (typeof message !== 'object' || message === null) {
    throw invalid('message', 'The enqueue request needs a message (a TaskMessage).');
  }
  assertQueueName(message.queue, 'message.queue');
  assertTaskType(message.type, 'message.type');
  if (typeof message.id !== 'string' || message.id.trim() === '') {
    throw invalid('message.id', `message.id must be a non-empty string, got ${JSON.stringify(message.id)}.`);
  }
  if (!(message.payload instanceof Uint8Array)) {
    throw invalid('message.payload', 'message.payload must be a Uint8Array; encode the payload first.');
  }
  if (processAt !== undefined && !Number.isFinite(processAt)) {
    throw invalid('processAt', `processAt must be Unix milliseconds, got ${String(processAt)}.`);
  }
  if (uniqueTtl !== undefined && (!Number.isFinite(uniqueTtl) || uniqueTtl < 1000)) {
    throw invalid(
      'uniqueTtl',
      `uniqueTtl must be at least 1000 milliseconds (Asynq's minimum), got ${String(uniqueTtl)}.`,
    );
  }
}
