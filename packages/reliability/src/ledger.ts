/**
 * The ledger: what the battery checks, kept in a Redis of its own that no fault touches. Producers add
 * every acknowledged enqueue; workers add every handler run (which process, which attempt, when).
 *
 * Keys (all under `prefix`): `acked` hash task id -> queue; `runs` hash id -> JSON list of runs (appended with
 * a script so that concurrent runs of one task are all kept); `ends` hash id -> JSON list of run ends
 * (workers with `recordEnds`); `enqueue-failures` counter.
 */
import { Redis } from 'ioredis';

export interface LedgerRun {
  /** The worker's name in the scenario, e.g. `w1`. */
  worker: string;
  pid: number;
  /** The task's retry count when this run started. */
  attempt: number;
  /** When the handler started, Unix ms. */
  at: number;
  /** Milliseconds from the enqueue (payload `enqueuedAt`) to this start. */
  latency?: number;
}

const appendRun = `
local list = redis.call("HGET", KEYS[1], ARGV[1])
if list then
  redis.call("HSET", KEYS[1], ARGV[1], string.sub(list, 1, -2) .. "," .. ARGV[2] .. "]")
else
  redis.call("HSET", KEYS[1], ARGV[1], "[" .. ARGV[2] .. "]")
end
return 1
`;

export class Ledger {
  readonly redis: Redis;

  constructor(
    url: string,
    readonly prefix: string,
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 50, lazyConnect: false });
    this.redis.on('error', () => undefined);
  }

  async recordAck(queue: string, taskId: string): Promise<void> {
    await this.redis.hset(`${this.prefix}:acked`, taskId, queue);
  }

  async recordEnqueueFailure(): Promise<void> {
    await this.redis.incr(`${this.prefix}:enqueue-failures`);
  }

  /** When a handler run ended (flow-control scenarios, which check how many ran at once). */
  async recordEnd(taskId: string, end: { pid: number; at: number }): Promise<void> {
    await this.redis.eval(appendRun, 1, `${this.prefix}:ends`, taskId, JSON.stringify(end));
  }

  async ends(): Promise<Map<string, { pid: number; at: number }[]>> {
    const all = await this.redis.hgetall(`${this.prefix}:ends`);
    return new Map(
      Object.entries(all).map(([id, list]) => [id, JSON.parse(list) as { pid: number; at: number }[]]),
    );
  }

  async recordRun(taskId: string, run: LedgerRun): Promise<void> {
    await this.redis.eval(appendRun, 1, `${this.prefix}:runs`, taskId, JSON.stringify(run));
  }

  /** Task id -> queue of every acknowledged enqueue. */
  async acked(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(`${this.prefix}:acked`)));
  }

  async ackedCount(): Promise<number> {
    return this.redis.hlen(`${this.prefix}:acked`);
  }

  async enqueueFailures(): Promise<number> {
    return Number((await this.redis.get(`${this.prefix}:enqueue-failures`)) ?? 0);
  }

  async runs(): Promise<Map<string, LedgerRun[]>> {
    const all = await this.redis.hgetall(`${this.prefix}:runs`);
    return new Map(Object.entries(all).map(([id, list]) => [id, JSON.parse(list) as LedgerRun[]]));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
