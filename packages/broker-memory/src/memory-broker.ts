/**
 * The memory `Broker`: every role of the contract over plain maps in this process, on a clock of the
 * caller's choice. Each operation changes the store in one synchronous step, so operations are atomic
 * as the Redis broker's scripts are, and a write is visible as soon as its call was made. The roles live
 * in their own files (`memory-task-producer.ts`, `memory-task-consumer.ts`, `memory-group-store.ts`,
 * `memory-scheduler-store.ts`, `memory-queue-admin.ts`) over the shared `MemoryStore`.
 */
import { brokerContractVersion, systemClock, type Broker, type Clock, type StoreInfo } from '@q/core';
import { MemoryGroupStore } from './memory-group-store';
import { MemoryQueueAdmin } from './memory-queue-admin';
import { MemorySchedulerStore } from './memory-scheduler-store';
import { MemoryStore, invalid } from './memory-store';
import { MemoryTaskConsumer } from './memory-task-consumer';
import { MemoryTaskProducer } from './memory-task-producer';

export interface MemoryBrokerOptions<TClock extends Clock = Clock> {
  /**
   * Where the broker reads the time and sets its timers (lease ends, retry and schedule times, unique
   * locks, the timeout of `waitForTasks`). Pass a `createManualClock()` to move time by hand in tests,
   * and give the same clock to the `Server`.
   * @default systemClock (the real time)
   */
  clock?: TClock;
}

/** The memory broker: a `Broker`, plus the clock it runs on. */
export interface MemoryBroker<TClock extends Clock = Clock> extends Broker {
  readonly name: 'memory';
  /** The clock the broker reads; pass it to a `Server` (`clock`) and a `Client` (`now: clock.now`). */
  readonly clock: TClock;
  /** The broker's clock and what it holds; the memory broker never evicts. */
  storeInfo(): Promise<StoreInfo>;
}

/** Creates a broker that keeps everything in this process; nothing survives `close()` or the process. */
export function createMemoryBroker<TClock extends Clock = Clock>(
  options: MemoryBrokerOptions<TClock> = {},
): MemoryBroker<TClock> {
  if (typeof options !== 'object' || options === null) {
    throw invalid('options', 'createMemoryBroker(options): options must be an object, e.g. { clock }.');
  }
  const unknown = Object.keys(options).filter((key) => key !== 'clock');
  if (unknown.length > 0) {
    throw invalid(
      `options.${unknown[0]}`,
      `Unknown memory broker option "${unknown[0]}"; the only option is clock.`,
    );
  }
  const clock = (options.clock ?? systemClock) as TClock;
  if (
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw invalid('options.clock', 'clock must have now(), setTimeout() and clearTimeout(), as systemClock.');
  }
  const store = new MemoryStore(clock);
  const broker = {
    contractVersion: brokerContractVersion,
    name: 'memory' as const,
    clock,
    ping: (): Promise<void> => store.run('ping', () => undefined),
    close: (): Promise<void> => {
      store.close();
      return Promise.resolve();
    },
  };
  // Each role is one class over the shared store; the broker is all of them, each method bound to its role.
  for (const role of [
    new MemoryTaskProducer(store),
    new MemoryTaskConsumer(store),
    new MemoryGroupStore(store),
    new MemorySchedulerStore(store),
    new MemoryQueueAdmin(store),
  ]) {
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(role))) {
      if (name === 'constructor') continue;
      const method = (role as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
      (broker as Record<string, unknown>)[name] = method.bind(role);
    }
  }
  return broker as unknown as MemoryBroker<TClock>;
}
