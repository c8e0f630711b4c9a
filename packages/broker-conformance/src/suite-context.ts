/** What every case of the suite uses: the current test's broker, a queue of its own, messages. */
import { randomUUID } from 'node:crypto';
import { type Broker, type TaskMessage } from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { afterEach, beforeEach } from 'vitest';
import type { TestBrokerOptions } from './test-broker-options';

export interface SuiteContext {
  readonly options: TestBrokerOptions;
  /** The broker of the running test. */
  broker(): Broker;
  /** A queue name no other test uses (brokers may share a store). */
  queue(name?: string): string;
  /** A pending-ready message in `queue()` unless overridden. */
  message(overrides?: Partial<TaskMessage>): TaskMessage;
}

/** Registers the hooks that give each test a fresh broker; call inside the suite's `describe`. */
export function createSuiteContext(options: TestBrokerOptions): SuiteContext {
  let current: Broker | undefined;
  let testId = '';
  beforeEach(async () => {
    testId = randomUUID().slice(0, 8);
    current = await options.createBroker();
  });
  afterEach(async () => {
    const broker = current;
    current = undefined;
    if (broker) await (options.disposeBroker ? options.disposeBroker(broker) : broker.close());
  });
  const context: SuiteContext = {
    options,
    broker() {
      if (!current) throw new Error('The broker is only available inside a test.');
      return current;
    },
    queue(name = 'main') {
      return `conformance-${testId}-${name}`;
    },
    message(overrides = {}) {
      return {
        ...emptyTaskMessage(),
        id: randomUUID(),
        type: 'conformance:task',
        payload: new TextEncoder().encode(JSON.stringify({ n: Math.random() })),
        queue: context.queue(),
        maxRetry: 25,
        timeoutSeconds: 1800,
        ...overrides,
      };
    },
  };
  return context;
}

/** Dequeue options used throughout the suite. */
export const lease = { leaseDuration: 30_000 } as const;
