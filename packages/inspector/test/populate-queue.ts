/** Puts tasks in every state into a queue through the broker's own roles, as a client and a server would. */
import { type Broker, type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';

export const populatedTaskIds = {
  pending: ['p-1', 'p-2'],
  scheduled: ['s-1'],
  aggregating: ['g-1', 'g-2'],
  active: ['a-1'],
  retry: ['r-1'],
  archived: ['x-1'],
  completed: ['c-1'],
} as const;

export function taskMessage(queue: string, id: string, values: Partial<TaskMessage> = {}): TaskMessage {
  return {
    ...emptyTaskMessage(),
    id,
    queue,
    type: values.type ?? 'email:send',
    payload: new TextEncoder().encode(JSON.stringify({ id })),
    maxRetry: 3,
    timeoutSeconds: 1800,
    ...values,
  };
}

export async function populateQueue(broker: Broker, queue: string): Promise<void> {
  const now = Date.now();
  const processed = ['a-1', 'r-1', 'x-1', 'c-1'];
  for (const id of processed) {
    await broker.enqueue({ message: taskMessage(queue, id, id === 'c-1' ? { retentionSeconds: 3600 } : {}) });
  }
  const { tasks } = await broker.dequeue([queue], { count: processed.length, leaseDuration: 60_000 });
  const byId = new Map(tasks.map((task) => [task.message.id, task.message]));
  await broker.retry(byId.get('r-1')!, {
    processAt: now + 3_600_000,
    errorMessage: 'smtp: connection reset',
    isFailure: true,
  });
  await broker.archive(byId.get('x-1')!, 'handler not found for task "email:send"');
  await broker.writeResult(queue, 'c-1', new TextEncoder().encode('sent'));
  await broker.markComplete(byId.get('c-1')!, now);
  for (const id of populatedTaskIds.pending) await broker.enqueue({ message: taskMessage(queue, id) });
  await broker.enqueue({ message: taskMessage(queue, 's-1'), processAt: now + 3_600_000 });
  for (const id of populatedTaskIds.aggregating) {
    await broker.enqueue({ message: taskMessage(queue, id, { groupKey: 'digest' }) });
  }
}
