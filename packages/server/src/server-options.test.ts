import { queueNameRule, systemClock, ValidationError } from '@q/core';
import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '@q/broker-memory';
import { resolveServerOptions } from './server-options';

const broker = createMemoryBroker();

describe('resolveServerOptions', () => {
  it("fills in Asynq's defaults, with @q's short leases and frequent sweeps", () => {
    const resolved = resolveServerOptions({ broker });
    expect(resolved.queues).toEqual({ default: 1 });
    expect(resolved.concurrency).toBeGreaterThan(0);
    expect(resolved.shutdownTimeout).toBe(8000);
    expect(resolved.healthCheckInterval).toBe(15_000);
    expect(resolved.delayedTaskCheckInterval).toBe(5000);
    expect(resolved.janitorInterval).toBe(8000);
    expect(resolved.janitorBatchSize).toBe(100);
    // Recovery within seconds of a server's death (Asynq: a 30 s lease, swept every minute).
    expect(resolved.leaseDuration).toBe(3000);
    expect(resolved.recovererInterval).toBe(1000);
    expect(resolved.heartbeatInterval).toBe(5000);
    expect(resolved.groupGracePeriod).toBe(60_000);
    expect(resolved.groupMaxDelay).toBe(0);
    expect(resolved.groupMaxSize).toBe(0);
    expect(resolved.strictPriority).toBe(false);
    expect(resolved.isFailure(new Error('x'))).toBe(true);
  });

  it('accepts duration strings', () => {
    const resolved = resolveServerOptions({
      broker,
      shutdownTimeout: '2s',
      leaseDuration: '5s',
      taskCheckInterval: 50,
    });
    expect(resolved.shutdownTimeout).toBe(2000);
    expect(resolved.leaseDuration).toBe(5000);
    expect(resolved.taskCheckInterval).toBe(50);
  });

  it('lists every problem in one typed error that says what to change', () => {
    let caught: unknown;
    try {
      resolveServerOptions({
        broker,
        concurrency: 0,
        queues: { critical: 0, ' bad': 1, 'a{b}': 2 },
        shutdownTimeout: 'soon',
        leaseDuration: 500,
        groupGracePeriod: 10,
        retryDelay: 5 as never,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const paths = (caught as ValidationError).issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'concurrency',
        'queues["critical"]',
        'queues[" bad"]',
        'queues["a{b}"]',
        'shutdownTimeout',
        'leaseDuration',
        'groupGracePeriod',
        'retryDelay',
      ]),
    );
    expect((caught as Error).message).toMatch(/concurrency must be an integer of at least 1, got 0/);
    expect((caught as Error).message).toMatch(/weight must be a positive integer/);
    expect((caught as Error).message).toContain(`queues["a{b}"] contains '{': ${queueNameRule};`);
    expect((caught as Error).message).toContain(
      `queues[" bad"] begins or ends with whitespace: ${queueNameRule};`,
    );
  });

  it('serves a queue whose name has an inner space, by the same rule as the client', () => {
    expect(resolveServerOptions({ broker, queues: { 'bad queue': 2, default: 1 } }).queues).toEqual({
      'bad queue': 2,
      default: 1,
    });
  });

  it('rejects a missing broker, a broker without the consumer role, and unknown options', () => {
    expect(() => resolveServerOptions({} as never)).toThrow(/broker is required/);
    expect(() => resolveServerOptions({ broker: { dequeue() {} } as never })).toThrow(
      /does not implement TaskConsumer \(missing waitForTasks/,
    );
    expect(() => resolveServerOptions({ broker, concurency: 3 } as never)).toThrow(
      /Unknown server option "concurency"/,
    );
    expect(() => resolveServerOptions({ broker, queues: {} })).toThrow(/at least one queue/);
  });

  it('requires a broker that can enqueue and store groups when a group aggregator is set', () => {
    const groupAggregator = () => ({ type: 'x' });
    // The memory broker without one method: a TaskConsumer that lacks the rest of the contract.
    const without = (method: string) =>
      Object.assign(Object.create(broker) as object, { [method]: undefined });
    expect(() => resolveServerOptions({ broker: without('enqueue') as never, groupAggregator })).toThrow(
      /groupAggregator needs a broker that can enqueue/,
    );
    expect(() =>
      resolveServerOptions({ broker: without('aggregationCheck') as never, groupAggregator }),
    ).toThrow(/groupAggregator needs a broker that implements GroupStore \(missing aggregationCheck\)/);
    // Without an aggregator the group store is not needed.
    expect(resolveServerOptions({ broker: without('aggregationCheck') as never }).groupAggregator).toBe(
      undefined,
    );
    expect(resolveServerOptions({ broker, groupAggregator }).groupAggregator).toBe(groupAggregator);
  });

  it('takes a clock, and refuses one without timers', () => {
    expect(resolveServerOptions({ broker }).clock).toBe(systemClock);
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };
    expect(resolveServerOptions({ broker, clock }).clock).toBe(clock);
    expect(() => resolveServerOptions({ broker, clock: { now: () => 0 } as never })).toThrow(
      /clock must have a setTimeout\(\) method/,
    );
  });
});
