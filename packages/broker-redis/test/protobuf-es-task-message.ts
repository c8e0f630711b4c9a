/**
 * The reference TaskMessage codec: protobuf-es's reflective `toBinary` / `fromBinary` over the schema
 * generated from proto/asynq.proto, mapped to and from @q's `TaskMessage` (int64 fields through `BigInt`).
 * The hand-written codec in src/task-message-codec.ts must agree with it byte for byte; the property tests
 * and the codec micro-benchmark (bench/src/codec-bench.ts) use it.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { TaskMessage } from '@q/core';
import { TaskMessageSchema } from '../src/gen/asynq_pb';

/** protobuf-es's bytes for a message (numbers must already fit: int32 and safe integers). */
export function encodeWithProtobufEs(message: TaskMessage): Uint8Array {
  return toBinary(
    TaskMessageSchema,
    create(TaskMessageSchema, {
      type: message.type,
      payload: message.payload,
      id: message.id,
      queue: message.queue,
      retry: message.maxRetry,
      retried: message.retried,
      errorMsg: message.errorMessage,
      timeout: BigInt(message.timeoutSeconds),
      deadline: BigInt(message.deadlineUnixSeconds),
      uniqueKey: message.uniqueKey,
      lastFailedAt: BigInt(message.lastFailedAtUnixSeconds),
      retention: BigInt(message.retentionSeconds),
      completedAt: BigInt(message.completedAtUnixSeconds),
      groupKey: message.groupKey,
      headers: message.headers,
    }),
  );
}

/** protobuf-es's reading of `msg` bytes as a TaskMessage; throws what protobuf-es throws. */
export function decodeWithProtobufEs(bytes: Uint8Array): TaskMessage {
  const decoded = fromBinary(TaskMessageSchema, bytes);
  return {
    id: decoded.id,
    type: decoded.type,
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

/** Whether every int64 field protobuf-es read from `bytes` is a safe integer (the range @q supports). */
export function int64FieldsAreSafe(bytes: Uint8Array): boolean {
  const decoded = fromBinary(TaskMessageSchema, bytes);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  return [
    decoded.timeout,
    decoded.deadline,
    decoded.lastFailedAt,
    decoded.retention,
    decoded.completedAt,
  ].every((value) => value <= limit && value >= -limit);
}
