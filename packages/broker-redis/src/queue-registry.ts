/**
 * Remembers which queue names this broker has recently added to `P:queues`, so that an enqueue does not
 * send a SADD every time (Go's Asynq v0.25+ caches them for the life of the process). The memory lasts
 * only `refreshInterval`: a queue removed by another process, or a Redis that lost its data, gets its
 * name back within that time, so the queue never goes missing from `asynq queue ls` and the inspector.
 */
export class QueueRegistry {
  readonly #registeredAt = new Map<string, number>();

  constructor(private readonly refreshInterval = 1000) {}

  /** The names among `queues` that must be (re)registered now. */
  due(queues: Iterable<string>, now: number): string[] {
    const due: string[] = [];
    for (const queue of queues) {
      const registeredAt = this.#registeredAt.get(queue);
      if (registeredAt === undefined || now - registeredAt >= this.refreshInterval) due.push(queue);
    }
    return due;
  }

  /** Records that the SADD for `queues` succeeded. */
  registered(queues: readonly string[], now: number): void {
    for (const queue of queues) this.#registeredAt.set(queue, now);
  }

  /** Forgets a queue this broker removed, so the next enqueue to it registers it again at once. */
  forget(queue: string): void {
    this.#registeredAt.delete(queue);
  }
}
