/**
 * The memory broker (which passes the conformance suite) on a manual clock, seen through a spy that
 * records what the server wrote and can make the broker unreachable or stall it, for the unit tests of
 * the server's loops. Nothing here decides an outcome: every call goes to the memory broker.
 */
import { createManualClock, createMemoryBroker, type ManualClock, type MemoryBroker } from '@q/broker-memory';
import {
  BrokerUnavailableError,
  type RetryOptions,
  type ServerState,
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

export interface TestBroker extends MemoryBroker<ManualClock> {
  readonly clock: ManualClock;
  /** Outcomes the memory broker accepted, in order. */
  readonly outcomes: RecordedOutcome[];
  readonly dequeueCalls: { queues: readonly string[]; count: number; at: number }[];
  readonly serverStates: { server: ServerState; workers: readonly WorkerState[]; ttl: number }[];
  readonly results: Map<string, Uint8Array>;
  /** Whether the server cleared its published state. */
  cleared: boolean;
  /** When true, every call fails as if the broker were down. */
  unreachable: boolean;
  /** When true, every call waits until `restore()` (a stalled connection). */
  hanging: boolean;
  restore(): void;
  /** Enqueues `message` as pending; it is in the broker when this returns. */
  add(message: TaskMessage): TaskMessage;
  /** Requests the cancellation of a running task, as the inspector does. */
  cancel(taskId: string): void;
  /** Recovers a running task as another server's recoverer would once its lease ended. */
  stealLease(message: TaskMessage): void;
}

let counter = 0;

export function testMessage(overrides: Partial<TaskMessage> = {}): TaskMessage {
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

type Method = (...args: unknown[]) => Promise<unknown>;

export function createTestBroker(clock: ManualClock = createManualClock()): TestBroker {
  const inner = createMemoryBroker({ clock });
  const hangers = new Set<() => void>();
  const state = {
    outcomes: [] as RecordedOutcome[],
    dequeueCalls: [] as TestBroker['dequeueCalls'],
    serverStates: [] as TestBroker['serverStates'],
    results: new Map<string, Uint8Array>(),
    cleared: false,
    unreachable: false,
    hanging: false,
  };
  const gate = async (): Promise<void> => {
    if (state.hanging) await new Promise<void>((resolve) => hangers.add(resolve));
    if (state.unreachable) throw new BrokerUnavailableError('connect ECONNREFUSED 127.0.0.1:1 (test)');
  };
  const record = (name: string, args: unknown[]): void => {
    const message = args[0] as TaskMessage;
    if (name === 'done') state.outcomes.push({ kind: 'done', id: message.id });
    if (name === 'markComplete') state.outcomes.push({ kind: 'complete', id: message.id });
    if (name === 'requeue') state.outcomes.push({ kind: 'requeue', id: message.id });
    if (name === 'retry') {
      state.outcomes.push({ kind: 'retry', id: message.id, options: args[1] as RetryOptions });
    }
    if (name === 'archive') {
      state.outcomes.push({ kind: 'archive', id: message.id, errorMessage: args[1] as string });
    }
    if (name === 'writeResult') state.results.set(args[1] as string, args[2] as Uint8Array);
    if (name === 'writeServerState') {
      state.serverStates.push({
        server: args[0] as ServerState,
        workers: args[1] as WorkerState[],
        ttl: args[2] as number,
      });
    }
    if (name === 'clearServerState') state.cleared = true;
  };
  const extras = {
    clock,
    restore: (): void => {
      state.unreachable = false;
      state.hanging = false;
      for (const release of [...hangers]) release();
      hangers.clear();
    },
    add: (message: TaskMessage): TaskMessage => {
      void inner.enqueue({ message });
      return message;
    },
    cancel: (taskId: string): void => {
      void inner.publishCancel(taskId);
    },
    stealLease: (message: TaskMessage): void => {
      void inner.retry(message, {
        processAt: clock.now() + 3_600_000,
        errorMessage: 'task lease expired',
        isFailure: true,
        fence: { expiredBy: Infinity },
      });
    },
  };
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property in extras) return extras[property as keyof typeof extras];
      if (property in state) return state[property as keyof typeof state];
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      const name = String(property);
      return async (...args: unknown[]) => {
        if (name === 'dequeue') {
          const [queues, options] = args as [string[], { count: number }];
          state.dequeueCalls.push({ queues, count: options.count, at: clock.now() });
        }
        await gate();
        const result = await (value as Method).apply(target, args);
        record(name, args);
        return result;
      };
    },
    set(_target, property, value) {
      if (property in state) {
        (state as Record<string, unknown>)[property as string] = value;
        return true;
      }
      return false;
    },
  }) as unknown as TestBroker;
}
