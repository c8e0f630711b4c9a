import type { PayloadCodec, TaskMessage } from '@q/core';
import type { Task } from './handler';

const build = (message: TaskMessage, payload: unknown): Task => ({
  id: message.id,
  type: message.type,
  queue: message.queue,
  payload,
  payloadBytes: message.payload,
  headers: message.headers,
  retried: message.retried,
  maxRetry: message.maxRetry,
});

/** The task a handler or a group aggregator sees. Throws when the codec cannot decode the payload. */
export function taskFromMessage(message: TaskMessage, codec: PayloadCodec): Task {
  return build(message, codec.decode(message.payload));
}

/** Like `taskFromMessage`, but a payload the codec refuses is handed over as its bytes. */
export function taskFromMessageLenient(message: TaskMessage, codec: PayloadCodec): Task {
  let payload: unknown;
  try {
    payload = codec.decode(message.payload);
  } catch {
    payload = message.payload;
  }
  return build(message, payload);
}
