/**
 * A minimal worker for the tests, doing what a server does with each task at once: dequeue, then succeed
 * (completed when the task has a retention, deleted otherwise), with the janitor deleting completed
 * tasks whose retention ended. It records every task it took.
 */
import type { TaskConsumer, TaskMessage } from '@q/core';

export interface TaskDrain {
  readonly taken: TaskMessage[];
  stop(): Promise<void>;
}

export function startTaskDrain(broker: TaskConsumer, queue: string, pollInterval = 10): TaskDrain {
  const taken: TaskMessage[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { tasks } = await broker.dequeue([queue], { count: 10, leaseDuration: 30_000 });
      for (const { message } of tasks) {
        taken.push(message);
        if (message.retentionSeconds > 0) await broker.markComplete(message, Date.now());
        else await broker.done(message);
      }
      await broker.deleteExpiredCompleted(queue, Date.now(), 100);
      if (tasks.length === 0) await new Promise((resolve) => setTimeout(resolve, pollInterval));
    }
  })();
  return {
    taken,
    async stop() {
      running = false;
      await loop;
    },
  };
}
