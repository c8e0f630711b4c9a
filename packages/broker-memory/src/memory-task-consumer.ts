/** `TaskConsumer` in memory: leases, outcome writes under their fence, forwarding, retention, server state. */
import { randomUUID } from 'node:crypto';
import {
  TaskNotFoundError,
  type DequeueOptions,
  type DequeueResult,
  type LeaseExtension,
  type LeaseFence,
  type LeasedTask,
  type RetryOptions,
  type ServerState,
  type TaskConsumer,
  type TaskMessage,
  type WorkerState,
} from '@q/core';
import { copyMessage, utcDate } from './memory-queue';
import { invalid, assertPositive, toUnixSeconds, type MemoryStore, serverKey } from './memory-store';

export class MemoryTaskConsumer implements TaskConsumer {
  constructor(private readonly store: MemoryStore) {}

  dequeue(queues: readonly string[], options: DequeueOptions): Promise<DequeueResult> {
    return this.store.run('dequeue', () => {
      assertPositive(options.leaseDuration, 'leaseDuration');
      if (!Number.isFinite(options.count) || options.count < 0) {
        throw invalid('count', `count must be a number of tasks, got ${String(options.count)}.`);
      }
      const wanted = Math.floor(options.count);
      const leaseExpiresAt = this.store.clock.now() + options.leaseDuration;
      const tasks: LeasedTask[] = [];
      for (const name of queues) {
        const queue = this.store.queues.get(name);
        if (!queue || queue.paused) continue;
        while (tasks.length < wanted && queue.pending.length > 0) {
          const record = queue.tasks.get(queue.pending[0]!)!;
          queue.detach(record);
          record.state = 'active';
          record.leaseExpiresAt = leaseExpiresAt;
          record.leaseToken = randomUUID();
          queue.active.add(record.message.id);
          tasks.push({
            message: copyMessage(record.message),
            leaseExpiresAt,
            leaseToken: record.leaseToken,
          });
        }
        if (tasks.length >= wanted) break;
      }
      return { tasks, malformed: [] };
    });
  }

  waitForTasks(queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
    if (this.store.closed || signal?.aborted || queues.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = this.store.clock.setTimeout(() => finish(false), Math.max(0, timeout));
      const finish = (woken: boolean): void => {
        this.store.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        for (const name of queues) this.store.waiters.get(name)?.delete(wake);
        resolve(woken && !this.store.closed);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const name of queues) {
        const waiting = this.store.waiters.get(name) ?? new Set();
        waiting.add(wake);
        this.store.waiters.set(name, waiting);
      }
    });
  }

  done(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.store.run('done', () => {
      const { queue, record } = this.store.leased(message, fence);
      queue.detach(record);
      queue.tasks.delete(record.message.id);
      queue.count(utcDate(this.store.clock.now()), false);
      this.store.releaseLock(record.message);
    });
  }

  markComplete(message: TaskMessage, completedAt: number, fence?: LeaseFence): Promise<void> {
    return this.store.run('markComplete', () => {
      const { queue, record } = this.store.leased(message, fence);
      queue.detach(record);
      const completedAtUnixSeconds = toUnixSeconds(completedAt);
      record.message = { ...copyMessage(message), completedAtUnixSeconds };
      record.state = 'completed';
      record.retainedUntil = (completedAtUnixSeconds + message.retentionSeconds) * 1000;
      queue.count(utcDate(this.store.clock.now()), false);
      this.store.releaseLock(record.message);
    });
  }

  requeue(message: TaskMessage, fence?: LeaseFence): Promise<void> {
    return this.store.run('requeue', () => {
      const { queue, record } = this.store.leased(message, fence);
      queue.detach(record);
      record.state = 'pending';
      record.pendingSince = this.store.clock.now();
      queue.pending.unshift(record.message.id);
      this.store.wake(queue.name);
    });
  }

  retry(message: TaskMessage, options: RetryOptions): Promise<void> {
    return this.store.run('retry', () => {
      const { queue, record } = this.store.leased(message, options.fence);
      const now = this.store.clock.now();
      queue.detach(record);
      record.message = {
        ...copyMessage(message),
        retried: options.isFailure ? message.retried + 1 : message.retried,
        errorMessage: options.errorMessage,
        lastFailedAtUnixSeconds: toUnixSeconds(now),
      };
      record.state = 'retry';
      record.processAt = options.processAt;
      if (options.isFailure) queue.count(utcDate(now), true);
    });
  }

  archive(message: TaskMessage, errorMessage: string, fence?: LeaseFence): Promise<void> {
    return this.store.run('archive', () => {
      const { queue, record } = this.store.leased(message, fence);
      const now = this.store.clock.now();
      queue.detach(record);
      record.message = {
        ...copyMessage(message),
        errorMessage,
        lastFailedAtUnixSeconds: toUnixSeconds(now),
      };
      this.store.moveToArchive(queue, record, now);
      queue.count(utcDate(now), true);
    });
  }

  extendLeases(
    queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
    leaseTokens?: ReadonlyMap<string, string>,
  ): Promise<LeaseExtension> {
    return this.store.run('extendLeases', () => {
      assertPositive(leaseDuration, 'leaseDuration');
      const leaseExpiresAt = this.store.clock.now() + leaseDuration;
      const tasks = this.store.queues.get(queue)?.tasks;
      const lost: string[] = [];
      for (const id of taskIds) {
        const record = tasks?.get(id);
        const token = leaseTokens?.get(id);
        if (record?.state !== 'active' || (token && token !== record.leaseToken)) {
          lost.push(id);
        } else {
          record.leaseExpiresAt = leaseExpiresAt;
        }
      }
      return { leaseExpiresAt, lost };
    });
  }

  writeResult(queue: string, taskId: string, result: Uint8Array): Promise<void> {
    return this.store.run('writeResult', () => {
      const record = this.store.queues.get(queue)?.tasks.get(taskId);
      if (!record) throw new TaskNotFoundError(queue, taskId);
      record.result = result.slice();
    });
  }

  listLeaseExpired(queues: readonly string[], cutoff: number): Promise<TaskMessage[]> {
    return this.store.run('listLeaseExpired', () =>
      queues.flatMap((name) =>
        (this.store.queues.get(name)?.inState('active') ?? [])
          .filter((record) => (record.leaseExpiresAt ?? -Infinity) <= cutoff)
          .map((record) => copyMessage(record.message)),
      ),
    );
  }

  forward(queues: readonly string[], now: number): Promise<number> {
    return this.store.run('forward', () => {
      let moved = 0;
      for (const name of queues) {
        const queue = this.store.queues.get(name);
        if (!queue) continue;
        const due = [...queue.inState('scheduled'), ...queue.inState('retry')].filter(
          (record) => (record.processAt ?? 0) <= now,
        );
        let pushed = 0;
        for (const record of due) {
          queue.detach(record);
          if (record.joinedGroup === true && record.message.groupKey) {
            queue.addToGroup(record, now);
          } else {
            record.state = 'pending';
            record.pendingSince = now;
            queue.pending.push(record.message.id);
            pushed += 1;
          }
        }
        moved += due.length;
        if (pushed > 0) this.store.wake(name);
      }
      return moved;
    });
  }

  deleteExpiredCompleted(queue: string, now: number, batchSize: number): Promise<number> {
    return this.store.run('deleteExpiredCompleted', () => {
      assertPositive(batchSize, 'batchSize');
      const found = this.store.queues.get(queue);
      if (!found) return 0;
      const expired = found
        .inState('completed')
        .filter((record) => (record.retainedUntil ?? 0) <= now)
        .slice(0, Math.floor(batchSize));
      for (const record of expired) found.tasks.delete(record.message.id);
      return expired.length;
    });
  }

  writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void> {
    return this.store.run('writeServerState', () => {
      assertPositive(ttl, 'ttl');
      this.store.servers.set(serverKey(server), {
        server: structuredClone(server),
        workers: workers.map((worker) => structuredClone(worker)),
        expiresAt: this.store.clock.now() + ttl,
      });
    });
  }

  clearServerState(server: Pick<ServerState, 'host' | 'pid' | 'serverId'>): Promise<void> {
    return this.store.run('clearServerState', () => {
      this.store.servers.delete(serverKey(server));
    });
  }

  subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    return this.store.run('subscribeCancel', () => {
      this.store.cancelListeners.add(listener);
      return () => {
        this.store.cancelListeners.delete(listener);
        return Promise.resolve();
      };
    });
  }
}
