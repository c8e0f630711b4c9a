/** `TaskMessage` to and from the protobuf bytes Asynq stores in a task's `msg` field. */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { MalformedTaskError, type TaskMessage } from '@q/core';
import { TaskMessageSchema } from './gen/asynq_pb';

const int32Limit = 2 ** 31;

function toInt64(value: number, name: string): bigint {
  if (!Number.isSafeInteger(value)) {
    throw new MalformedTaskError(`TaskMessage.${name} must be a whole number, got ${value}.`);
  }
  return BigInt(value);
}

function toInt32(value: number, name: string): number {
  if (!Number.isInteger(value) || value < -int32Limit || value >= int32Limit) {
    throw new MalformedTaskError(`TaskMessage.${name} must be a 32-bit whole number, got ${value}.`);
  }
  return value;
}

/**
 * Encodes a message as Go's Asynq does: fields in field-number order, zero values left out.
 * Throws `MalformedTaskError` for numbers the wire format cannot carry.
 */
export function encodeTaskMessage(message: TaskMessage): Uint8Array {
  return toBinary(
    TaskMessageSchema,
    create(TaskMessageSchema, {
      type: message.type,
      payload: message.payload,
      id: message.id,
      queue: message.queue,
      retry: toInt32(message.maxRetry, 'maxRetry'),
      retried: toInt32(message.retried, 'retried'),
      errorMsg: message.errorMessage,
      timeout: toInt64(message.timeoutSeconds, 'timeoutSeconds'),
      deadline: toInt64(message.deadlineUnixSeconds, 'deadlineUnixSeconds'),
      uniqueKey: message.uniqueKey,
      lastFailedAt: toInt64(message.lastFailedAtUnixSeconds, 'lastFailedAtUnixSeconds'),
      retention: toInt64(message.retentionSeconds, 'retentionSeconds'),
      completedAt: toInt64(message.completedAtUnixSeconds, 'completedAtUnixSeconds'),
      groupKey: message.groupKey,
      headers: message.headers,
    }),
  );
}

/** Decodes a `msg` field. Throws `MalformedTaskError` when the bytes are not a TaskMessage. */
export function decodeTaskMessage(bytes: Uint8Array): TaskMessage {
  let decoded;
  try {
    decoded = fromBinary(TaskMessageSchema, bytes);
  } catch (error) {
    throw new MalformedTaskError(
      `The task record's msg is not a protobuf TaskMessage (${(error as Error).message}).`,
      { cause: error },
    );
  }
  return {
    id: decoded.id,
    type: decoded.type,
    // A copy: the decoded bytes are a view into the whole Redis reply.
    payload: new Uint8Array(decoded.payload),
    queue: decoded.queue,
    maxRetry: decoded.retry,
    retried: decoded.retried,
    errorMessage: decoded.errorMsg,
    timeoutSeconds: Number(decoded.timeout),
    deadlineUnixSeconds: Number(decoded.deadline),
    uniqueKey: decoded.uniqueKey,
    lastFailedAtUnixSeconds: Number(decoded.lastFailedAt),
    retentionSeconds: Number(decoded.retention),
    completedAtUnixSeconds: Number(decoded.completedAt),
    groupKey: decoded.groupKey,
    headers: { ...decoded.headers },
  };
}
