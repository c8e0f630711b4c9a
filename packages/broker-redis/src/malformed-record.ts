/**
 * Task records that cannot be read: missing, not a hash, without `msg`, with a `msg` that is not a
 * TaskMessage or that belongs to another task. Dequeue and lease recovery archive them in place of a
 * readable message that keeps what was there (the raw bytes as payload) and names the reason, so that
 * nothing is lost and the inspector shows them.
 */
import { MalformedTaskError, type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { replyBytes, replyText } from './redis-reply';
import { decodeTaskMessage } from './task-message-codec';

/** The type given to the replacement message of a malformed record. */
export const malformedTaskType = 'q:malformed-record';

export type RecordReading =
  | { ok: true; taskId: string; message: TaskMessage }
  | { ok: false; taskId: string; reason: string; raw: Uint8Array; recordType?: string };

/** Reads one `{ id, kind, data }` triple of the dequeue and list-lease-expired scripts. */
export function readRecord(queue: string, triple: readonly unknown[]): RecordReading {
  const taskId = replyText(triple[0]);
  const kind = replyText(triple[1]);
  const empty = new Uint8Array(0);
  if (kind === 'missing') return { ok: false, taskId, reason: 'the task record does not exist', raw: empty };
  if (kind === 'nomsg') return { ok: false, taskId, reason: 'the task record has no msg field', raw: empty };
  if (kind === 'wrongtype') {
    const recordType = replyText(triple[2]);
    return {
      ok: false,
      taskId,
      reason: `the task record is a Redis ${recordType}, not a hash`,
      raw: empty,
      recordType,
    };
  }
  const raw = replyBytes(triple[2]) ?? empty;
  try {
    const message = decodeTaskMessage(raw);
    if (message.id !== taskId || message.queue !== queue) {
      return {
        ok: false,
        taskId,
        reason: `its msg belongs to task "${message.id}" of queue "${message.queue}"`,
        raw: new Uint8Array(raw),
      };
    }
    return { ok: true, taskId, message };
  } catch (error) {
    const detail = error instanceof MalformedTaskError ? error.message : String(error);
    return { ok: false, taskId, reason: detail, raw: new Uint8Array(raw) };
  }
}

/** The message archived in place of a malformed record. */
export function replacementMessage(
  queue: string,
  reading: Extract<RecordReading, { ok: false }>,
  raw: Uint8Array,
): TaskMessage {
  return {
    ...emptyTaskMessage(),
    id: reading.taskId,
    type: malformedTaskType,
    queue,
    payload: raw,
    errorMessage: `@q archived a malformed task record: ${reading.reason}. The payload holds the original bytes.`,
  };
}
