/** `SchedulerEntryState` and `SchedulerEnqueueEvent` to and from Asynq's protobuf messages. */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { SchedulerEnqueueEvent, SchedulerEntryState } from '@q/core';
import { SchedulerEnqueueEventSchema, SchedulerEntrySchema } from './gen/asynq_pb';
import { fromTimestamp, toTimestamp, toTimestampOrGoZero } from './protobuf-time';

export function encodeSchedulerEntry(entry: SchedulerEntryState): Uint8Array {
  return toBinary(
    SchedulerEntrySchema,
    create(SchedulerEntrySchema, {
      id: entry.id,
      spec: entry.spec,
      taskType: entry.taskType,
      taskPayload: entry.payload,
      enqueueOptions: entry.enqueueOptions,
      nextEnqueueTime: toTimestamp(entry.nextEnqueueAt),
      // Go writes its zero time for an entry that never ran; a missing field would read as 1970.
      prevEnqueueTime: toTimestampOrGoZero(entry.previousEnqueueAt),
    }),
  );
}

/** Throws when the bytes are not a SchedulerEntry. */
export function decodeSchedulerEntry(bytes: Uint8Array): SchedulerEntryState {
  const entry = fromBinary(SchedulerEntrySchema, bytes);
  return {
    id: entry.id,
    spec: entry.spec,
    taskType: entry.taskType,
    payload: new Uint8Array(entry.taskPayload),
    enqueueOptions: [...entry.enqueueOptions],
    nextEnqueueAt: fromTimestamp(entry.nextEnqueueTime),
    previousEnqueueAt: fromTimestamp(entry.prevEnqueueTime),
  };
}

export function encodeSchedulerEnqueueEvent(event: SchedulerEnqueueEvent): Uint8Array {
  return toBinary(
    SchedulerEnqueueEventSchema,
    create(SchedulerEnqueueEventSchema, { taskId: event.taskId, enqueueTime: toTimestamp(event.enqueuedAt) }),
  );
}

/** Throws when the bytes are not a SchedulerEnqueueEvent. */
export function decodeSchedulerEnqueueEvent(bytes: Uint8Array): SchedulerEnqueueEvent {
  const event = fromBinary(SchedulerEnqueueEventSchema, bytes);
  return { taskId: event.taskId, enqueuedAt: fromTimestamp(event.enqueueTime) };
}
