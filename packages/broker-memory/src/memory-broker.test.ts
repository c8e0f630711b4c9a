/**
 * What the conformance suite cannot check on the real clock: the memory broker's time-driven behaviour
 * on a manual clock (leases, locks, published state and waits that end), and its own options.
 */
import {
  DuplicateTaskError,
  ShutdownError,
  ValidationError,
  brokerContractVersion,
  type TaskMessage,
} from '@q/core';
import { emptyTaskMessage } from '@q/core/internal';
import { describe, expect, it } from 'vitest';
import { createManualClock } from './manual-clock';
import { createMemoryBroker } from './memory-broker';

const start = Date.UTC(2026, 0, 1);
let counter = 0;

function message(values: Partial<TaskMessage> = {}): TaskMessage {
  counter += 1;
  return {
    ...emptyTaskMessage(),
    id: `task-${counter}`,
    type: 'email:send',
    queue: 'default',
    payload: new TextEncoder().encode(`{"n":${counter}}`),
    maxRetry: 3,
    ...values,
  };
}

function setup() {
  const clock = createManualClock({ now: start });
  return { clock, broker: createMemoryBroker({ clock }) };
}

describe('createMemoryBroker', () => {
  it('declares the contract it implements and refuses options it does not know', () => {
    const broker = createMemoryBroker();
    expect(broker.contractVersion).toBe(brokerContractVersion);
    expect(broker.name).toBe('memory');
    expect(() => createMemoryBroker({ clok: 1 } as never)).toThrow(/Unknown memory broker option "clok"/);
    expect(() => createMemoryBroker({ clock: { now: () => 0 } as never })).toThrow(ValidationError);
  });

  it('ends a lease on its clock: the task is orphaned and listed for recovery', async () => {
    const { clock, broker } = setup();
    const task = message();
    await broker.enqueue({ message: task });
    const { tasks } = await broker.dequeue(['default'], { count: 1, leaseDuration: 3000 });
    expect(tasks[0]!.leaseExpiresAt).toBe(start + 3000);
    await clock.advance(2999);
    expect(await broker.listLeaseExpired(['default'], clock.now())).toEqual([]);
    expect((await broker.getTask('default', task.id)).isOrphaned).toBe(false);
    await clock.advance(1);
    expect((await broker.listLeaseExpired(['default'], clock.now())).map((found) => found.id)).toEqual([
      task.id,
    ]);
    expect((await broker.getTask('default', task.id)).isOrphaned).toBe(true);
  });

  it('holds a uniqueness lock for its time to live, from the process time of a scheduled task', async () => {
    const { clock, broker } = setup();
    const payload = new TextEncoder().encode('"same"');
    await broker.enqueue({ message: message({ payload }), uniqueTtl: 60_000 });
    await expect(broker.enqueue({ message: message({ payload }), uniqueTtl: 60_000 })).rejects.toBeInstanceOf(
      DuplicateTaskError,
    );
    await clock.advance('1m');
    await broker.enqueue({ message: message({ payload }), uniqueTtl: 60_000 });
    const later = new TextEncoder().encode('"later"');
    await broker.enqueue({
      message: message({ payload: later }),
      uniqueTtl: 60_000,
      processAt: clock.now() + 600_000,
    });
    await clock.advance('10m');
    await expect(
      broker.enqueue({ message: message({ payload: later }), uniqueTtl: 60_000 }),
    ).rejects.toBeInstanceOf(DuplicateTaskError);
    await clock.advance('1m');
    await broker.enqueue({ message: message({ payload: later }), uniqueTtl: 60_000 });
  });

  it('forgets published servers and scheduler entries once their time to live ran out', async () => {
    const { clock, broker } = setup();
    const identity = { host: 'h', pid: 1, serverId: 's' };
    await broker.writeServerState(
      {
        ...identity,
        concurrency: 1,
        queues: { default: 1 },
        strictPriority: false,
        status: 'active',
        startedAt: start,
        activeWorkerCount: 0,
      },
      [],
      10_000,
    );
    await broker.writeSchedulerEntries({ host: 'h', pid: 1, schedulerId: 'c' }, [], 20_000);
    await clock.advance(9999);
    expect(await broker.listServers()).toMatchObject([{ expiresAt: start + 10_000, remainingTtl: 1 }]);
    await clock.advance(1);
    expect(await broker.listServers()).toEqual([]);
    await broker.writeSchedulerEntries(
      { host: 'h', pid: 1, schedulerId: 'c' },
      [
        {
          id: 'e',
          spec: '@every 1m',
          taskType: 'report',
          payload: new Uint8Array(0),
          enqueueOptions: [],
          nextEnqueueAt: start + 60_000,
          previousEnqueueAt: 0,
        },
      ],
      20_000,
    );
    expect(await broker.listSchedulerEntries()).toHaveLength(1);
    await clock.advance(20_000);
    expect(await broker.listSchedulerEntries()).toEqual([]);
  });

  it('ends a wait for tasks at its timeout on its clock, or at once when work arrives', async () => {
    const { clock, broker } = setup();
    let woken: boolean | undefined;
    void broker.waitForTasks(['default'], 1000).then((value) => (woken = value));
    await clock.advance(999);
    expect(woken).toBeUndefined();
    await clock.advance(1);
    expect(woken).toBe(false);
    const waiting = broker.waitForTasks(['other', 'default'], 1000);
    await broker.enqueue({ message: message() });
    expect(await waiting).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps what it stores apart from what callers hold', async () => {
    const { broker } = setup();
    const task = message({ headers: { tenant: 'acme' } });
    await broker.enqueue({ message: task });
    task.headers.tenant = 'changed';
    task.payload[0] = 0;
    const stored = await broker.getTask('default', task.id);
    expect(stored.message.headers).toEqual({ tenant: 'acme' });
    expect(stored.message.payload[0]).toBe('{'.charCodeAt(0));
  });

  it('refuses every call once closed', async () => {
    const { broker } = setup();
    const waiting = broker.waitForTasks(['default'], 60_000);
    await broker.close();
    expect(await waiting).toBe(false);
    await expect(broker.enqueue({ message: message() })).rejects.toBeInstanceOf(ShutdownError);
    await expect(broker.ping()).rejects.toBeInstanceOf(ShutdownError);
  });
});
