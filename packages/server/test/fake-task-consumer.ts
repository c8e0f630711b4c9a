/**
 * An in-memory TaskConsumer for unit tests of the server's loop logic only (slots, outcomes, lifecycle,
 * backoff). It knows nothing of Redis; everything about the real layout is tested against the Redis
 * broker in the integration tests.
 */
import {
  BrokerUnavailableError,
  type DequeueOptions,
  type DequeueResult,
  LeaseLostError,
  type LeaseExtension,
  type RetryOptions,
  type ServerState,
  type TaskConsumer,
  type TaskMessage,
  type WorkerState,
} from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';

export type RecordedOutcome =
  | { kind: 'done'; id: string }
  | { kind: 'complete'; id: string }
  | { kind: 'requeue'; id: string }
  | { kind: 'retry'; id: string; options: RetryOptions }
  | { kind: 'archive'; id: string; errorMessage: string };

let counter = 0;

export function fakeMessage(overrides: Partial<TaskMessage> = {}): TaskMessage {
  counter += 1;
  return {
    ...emptyTaskMessage(),
    id: `task-${counter}`,
    type: 'test:task',
    queue: 'default',
    maxRetry: 25,
    timeoutSeconds: 1800,
    payload: new TextEncoder().encode(JSON.stringify({ n: counter })),
    ...overrides,
  };
}

export class FakeTaskConsumer implements TaskConsumer {
  readonly pending = new Map<string, TaskMessage[]>();
  readonly active = new Map<string, { message: TaskMessage; leaseExpiresAt: number }>();
  readonly paused = new Set<string>();
  readonly outcomes: RecordedOutcome[] = [];
  readonly dequeueCalls: { queues: readonly string[]; count: number; at: number }[] = [];
  readonly results = new Map<string, Uint8Array>();
  serverStates: { server: ServerState; workers: readonly WorkerState[]; ttl: number }[] = [];
  cleared = false;
  /** When true, every call fails as if the broker were down. */
  unreachable = false;
  /** When true, every call hangs until `unreachable` is false again (a stalled connection). */
  hanging = false;
  private wakers = new Set<() => void>();
  private cancelListeners = new Set<(taskId: string) => void>();
  private hangers = new Set<() => void>();

  add(message: TaskMessage): TaskMessage {
    const list = this.pending.get(message.queue) ?? [];
    list.push(message);
    this.pending.set(message.queue, list);
    for (const wake of [...this.wakers]) wake();
    return message;
  }

  cancel(taskId: string): void {
    for (const listener of this.cancelListeners) listener(taskId);
  }

  /** Drops the lease of an active task, as another server's recoverer would. */
  stealLease(taskId: string): void {
    this.active.delete(taskId);
  }

  restore(): void {
    this.unreachable = false;
    this.hanging = false;
    for (const release of [...this.hangers]) release();
  }

  private async gate(): Promise<void> {
    if (this.hanging) {
      await new Promise<void>((resolve) => this.hangers.add(resolve));
    }
    if (this.unreachable) throw new BrokerUnavailableError('connect ECONNREFUSED 127.0.0.1:1 (fake)');
  }

  async dequeue(queues: readonly string[], options: DequeueOptions): Promise<DequeueResult> {
    this.dequeueCalls.push({ queues, count: options.count, at: Date.now() });
    await this.gate();
    const tasks = [];
    for (const queue of queues) {
      if (this.paused.has(queue)) continue;
      const list = this.pending.get(queue) ?? [];
      while (list.length > 0 && tasks.length < options.count) {
        const message = list.shift()!;
        const leaseExpiresAt = Date.now() + options.leaseDuration;
        this.active.set(message.id, { message, leaseExpiresAt });
        tasks.push({ message, leaseExpiresAt });
      }
      if (tasks.length >= options.count) break;
    }
    return { tasks, malformed: [] };
  }

  async waitForTasks(_queues: readonly string[], timeout: number, signal?: AbortSignal): Promise<boolean> {
    await this.gate();
    return new Promise((resolve) => {
      const finish = (woken: boolean): void => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve(woken);
      };
      const wake = (): void => finish(true);
      const timer = setTimeout(() => finish(false), timeout);
      this.wakers.add(wake);
      signal?.addEventListener('abort', () => finish(false), { once: true });
    });
  }

  private take(message: TaskMessage): void {
    if (!this.active.delete(message.id)) throw new LeaseLostError(message.queue, message.id);
  }

  async done(message: TaskMessage): Promise<void> {
    await this.gate();
    this.take(message);
    this.outcomes.push({ kind: 'done', id: message.id });
  }

  async markComplete(message: TaskMessage): Promise<void> {
    await this.gate();
    this.take(message);
    this.outcomes.push({ kind: 'complete', id: message.id });
  }

  async requeue(message: TaskMessage): Promise<void> {
    await this.gate();
    this.take(message);
    const list = this.pending.get(message.queue) ?? [];
    list.unshift(message);
    this.pending.set(message.queue, list);
    this.outcomes.push({ kind: 'requeue', id: message.id });
  }

  async retry(message: TaskMessage, options: RetryOptions): Promise<void> {
    await this.gate();
    this.take(message);
    this.outcomes.push({ kind: 'retry', id: message.id, options });
  }

  async archive(message: TaskMessage, errorMessage: string): Promise<void> {
    await this.gate();
    this.take(message);
    this.outcomes.push({ kind: 'archive', id: message.id, errorMessage });
  }

  async extendLeases(
    _queue: string,
    taskIds: readonly string[],
    leaseDuration: number,
  ): Promise<LeaseExtension> {
    await this.gate();
    const leaseExpiresAt = Date.now() + leaseDuration;
    const lost: string[] = [];
    for (const id of taskIds) {
      const entry = this.active.get(id);
      if (entry) entry.leaseExpiresAt = leaseExpiresAt;
      else lost.push(id);
    }
    return { leaseExpiresAt, lost };
  }

  async writeResult(_queue: string, taskId: string, result: Uint8Array): Promise<void> {
    await this.gate();
    this.results.set(taskId, result);
  }

  async listLeaseExpired(): Promise<TaskMessage[]> {
    await this.gate();
    return [];
  }

  async forward(): Promise<number> {
    await this.gate();
    return 0;
  }

  async deleteExpiredCompleted(): Promise<number> {
    await this.gate();
    return 0;
  }

  async listGroups(): Promise<string[]> {
    await this.gate();
    return [];
  }

  async aggregationCheck(): Promise<string | undefined> {
    await this.gate();
    return undefined;
  }

  async readAggregationSet(): Promise<{ messages: TaskMessage[] }> {
    await this.gate();
    return { messages: [] };
  }

  async deleteAggregationSet(): Promise<void> {
    await this.gate();
  }

  async reclaimStaleAggregationSets(): Promise<void> {
    await this.gate();
  }

  async writeServerState(server: ServerState, workers: readonly WorkerState[], ttl: number): Promise<void> {
    await this.gate();
    this.serverStates.push({ server, workers, ttl });
  }

  async clearServerState(): Promise<void> {
    await this.gate();
    this.cleared = true;
  }

  async subscribeCancel(listener: (taskId: string) => void): Promise<() => Promise<void>> {
    await this.gate();
    this.cancelListeners.add(listener);
    return () => {
      this.cancelListeners.delete(listener);
      return Promise.resolve();
    };
  }
}
