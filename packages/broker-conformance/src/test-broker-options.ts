import type { Broker } from '@q/core';

export interface TestBrokerOptions {
  /** Shown in the suite's title, e.g. `redis`. */
  name: string;
  /**
   * A broker for one test, isolated from the brokers of other tests (its own key prefix, database or
   * namespace). Called before every test.
   */
  createBroker: () => Broker | Promise<Broker>;
  /**
   * Releases a broker after its test.
   * @default (broker) => broker.close()
   */
  disposeBroker?: (broker: Broker) => Promise<void>;
  /**
   * Whether the broker wakes `waitForTasks` as soon as a task is enqueued. A broker that does not is
   * only checked to time out.
   * @default true
   */
  notifiesNewTasks?: boolean;
}
