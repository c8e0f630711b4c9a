/** Tasks in every state, written the way a client and a server write them. */
import { Client } from '@q/client';
import type { Broker } from '@q/core';

export const taskIds = {
  pending: ['p-1', 'p-2'],
  scheduled: ['s-1'],
  aggregating: ['g-1', 'g-2'],
  active: ['a-1'],
  retry: ['r-1'],
  archived: ['x-1'],
  completed: ['c-1'],
} as const;

export async function populateEveryState(broker: Broker, queue: string): Promise<void> {
  const client = new Client({ broker });
  const now = Date.now();
  for (const id of ['a-1', 'r-1', 'x-1', 'c-1']) {
    await client.enqueue(
      'email:send',
      { to: `${id}@example.com` },
      { queue, taskId: id, maxRetry: 3, ...(id === 'c-1' ? { retention: '1h' } : {}) },
    );
  }
  const { tasks } = await broker.dequeue([queue], { count: 4, leaseDuration: 60_000 });
  const byId = new Map(tasks.map((task) => [task.message.id, task.message]));
  await broker.retry(byId.get('r-1')!, {
    processAt: now + 3_600_000,
    errorMessage: 'smtp: connection reset',
    isFailure: true,
  });
  await broker.archive(byId.get('x-1')!, 'gave up');
  await broker.writeResult(queue, 'c-1', new TextEncoder().encode('sent'));
  await broker.markComplete(byId.get('c-1')!, now);
  for (const id of taskIds.pending) await client.enqueue('email:send', { to: id }, { queue, taskId: id });
  await client.enqueue('email:send', { to: 's' }, { queue, taskId: 's-1', processIn: '1h' });
  for (const id of taskIds.aggregating)
    await client.enqueue('digest', { id }, { queue, taskId: id, group: 'daily' });
}
